using Kefu.Contracts.Messages;
using Kefu.Grains.Conversations;

namespace Kefu.Grains.Tests.Events;

/// <summary>The lifecycle's rules, without a cluster.</summary>
public sealed class LifecycleRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(ConversationStatus.Open, ConversationStatus.Pending, null)]
    [InlineData(ConversationStatus.Open, ConversationStatus.Resolved, null)]
    [InlineData(ConversationStatus.Pending, ConversationStatus.Open, null)]
    [InlineData(ConversationStatus.Resolved, ConversationStatus.Open, null)]
    [InlineData(ConversationStatus.Snoozed, ConversationStatus.Resolved, null)]
    [InlineData(ConversationStatus.Open, ConversationStatus.Open, ErrorCodes.InvalidState)]
    [InlineData(ConversationStatus.Queued, ConversationStatus.Pending, ErrorCodes.InvalidState)]
    [InlineData(ConversationStatus.Resolved, ConversationStatus.Pending, ErrorCodes.InvalidState)]
    [InlineData(ConversationStatus.Pending, ConversationStatus.Pending, ErrorCodes.InvalidState)]
    [InlineData(ConversationStatus.Resolved, ConversationStatus.Resolved, ErrorCodes.InvalidState)]
    [InlineData(ConversationStatus.Open, ConversationStatus.Queued, ErrorCodes.InvalidField)]
    [InlineData(ConversationStatus.Open, "closed", ErrorCodes.InvalidField)]
    public void StatusChangesFollowTheLifecycle(string current, string status, string? error) =>
        Assert.Equal(error, LifecycleRules.StatusChange(current, status, null, Now)?.Code);

    [Fact]
    public void ASnoozeNeedsAFutureTimeAndOnlyASnoozeHasOne()
    {
        Assert.Null(LifecycleRules.StatusChange(ConversationStatus.Open, ConversationStatus.Snoozed, Now.AddMinutes(1), Now));
        Assert.Null(LifecycleRules.StatusChange(ConversationStatus.Snoozed, ConversationStatus.Snoozed, Now.AddHours(1), Now)); // later
        Assert.Equal(ErrorCodes.InvalidField, LifecycleRules.StatusChange(ConversationStatus.Open, ConversationStatus.Snoozed, Now, Now)?.Code);
        Assert.Equal(ErrorCodes.InvalidField, LifecycleRules.StatusChange(ConversationStatus.Open, ConversationStatus.Snoozed, null, Now)?.Code);
        Assert.Equal(ErrorCodes.InvalidField, LifecycleRules.StatusChange(ConversationStatus.Open, ConversationStatus.Pending, Now.AddHours(1), Now)?.Code);
    }

    [Fact]
    public void AResolutionIsRatedOnceWithinBounds()
    {
        Assert.Null(LifecycleRules.Rating(ConversationStatus.Resolved, mayRate: true, 5, "great"));
        Assert.Equal(ErrorCodes.InvalidState, LifecycleRules.Rating(ConversationStatus.Resolved, mayRate: false, 5, null)?.Code);
        Assert.Equal(ErrorCodes.InvalidState, LifecycleRules.Rating(ConversationStatus.Open, mayRate: true, 5, null)?.Code);
        Assert.Equal(ErrorCodes.InvalidField, LifecycleRules.Rating(ConversationStatus.Resolved, mayRate: true, 0, null)?.Code);
        Assert.Equal(ErrorCodes.InvalidField, LifecycleRules.Rating(ConversationStatus.Resolved, mayRate: true, 3, new string('x', LifecycleRules.MaxCsatComment + 1))?.Code);
    }

    [Fact]
    public void TagsAreTrimmedLowerCaseAndUniqueWithinBounds()
    {
        Assert.Equal(["vip", "billing"], LifecycleRules.NormalizeTags([" VIP ", "billing", "vip"])!);
        Assert.Null(LifecycleRules.NormalizeTags([""]));
        Assert.Null(LifecycleRules.NormalizeTags([new string('a', LifecycleRules.MaxTagLength + 1)]));
        Assert.Null(LifecycleRules.NormalizeTags([.. Enumerable.Range(0, LifecycleRules.MaxTags + 1).Select(i => $"t{i}")]));
        Assert.Null(LifecycleRules.NormalizeTags(["a\u0001b"]));
    }
}
