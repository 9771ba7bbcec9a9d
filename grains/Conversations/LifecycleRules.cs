using Kefu.Contracts.Messages;

namespace Kefu.Grains.Conversations;

/// <summary>
/// The lifecycle's rules that need nothing but the conversation's status (docs/contact-centre.md): which status
/// changes are allowed, what a label and a rating must look like. The grain asks these before it touches anything.
/// </summary>
internal static class LifecycleRules
{
    public const int MaxTags = 20;
    public const int MaxTagLength = 32;
    public const int MaxCsatComment = 1_000;

    /// <summary>Why <paramref name="current"/> may not become <paramref name="status"/>; null when it may.</summary>
    public static KefuError? StatusChange(string current, string status, DateTimeOffset? snoozedUntil, DateTimeOffset now)
    {
        if (status is not (ConversationStatus.Open or ConversationStatus.Pending or ConversationStatus.Snoozed or ConversationStatus.Resolved))
        {
            return KefuError.Invalid("status must be one of: open, pending, snoozed, resolved.");
        }

        if (status == ConversationStatus.Snoozed && (snoozedUntil is not { } until || until <= now))
        {
            return KefuError.Invalid("snoozed needs a 'snoozedUntil' time in the future.");
        }

        if (status != ConversationStatus.Snoozed && snoozedUntil is not null)
        {
            return KefuError.Invalid("snoozedUntil is only for status 'snoozed'.");
        }

        return status switch
        {
            ConversationStatus.Open when !IsWaitingOnVisitorOrDone(current) =>
                InvalidState($"The conversation is {current}; only a pending, snoozed or resolved one can be reopened."),
            ConversationStatus.Pending or ConversationStatus.Snoozed
                when current is ConversationStatus.Queued or ConversationStatus.Resolved || (current == status && status == ConversationStatus.Pending) =>
                InvalidState($"A {current} conversation cannot become {status}."),
            ConversationStatus.Resolved when current == ConversationStatus.Resolved => InvalidState("The conversation is resolved already."),
            _ => null,
        };
    }

    /// <summary>Why the visitor may not rate now (or not so); null when it may.</summary>
    public static KefuError? Rating(string current, bool mayRate, int rating, string? comment)
    {
        if (rating is < 1 or > 5)
        {
            return KefuError.Invalid("rating must be a whole number from 1 to 5.");
        }

        if (comment is { Length: > MaxCsatComment })
        {
            return KefuError.Invalid($"comment must be at most {MaxCsatComment} characters.");
        }

        if (current != ConversationStatus.Resolved || !mayRate)
        {
            return InvalidState(current == ConversationStatus.Resolved
                ? "This resolution has been rated already."
                : "A conversation is rated after it is resolved.");
        }

        return null;
    }

    /// <summary>Waiting on the visitor, or done: a visitor's message (or an agent) reopens it.</summary>
    public static bool IsWaitingOnVisitorOrDone(string status) =>
        status is ConversationStatus.Pending or ConversationStatus.Snoozed or ConversationStatus.Resolved;

    /// <summary>Trimmed, lower-case, without duplicates; null when any tag or their number is out of bounds.</summary>
    public static string[]? NormalizeTags(string?[] tags)
    {
        if (tags.Length > MaxTags)
        {
            return null;
        }

        var result = new List<string>(tags.Length);
        foreach (var raw in tags)
        {
            var tag = raw?.Trim().ToLowerInvariant();
            if (tag is not { Length: >= 1 and <= MaxTagLength } || tag.Any(char.IsControl))
            {
                return null;
            }

            if (!result.Contains(tag, StringComparer.Ordinal))
            {
                result.Add(tag);
            }
        }

        return [.. result];
    }

    private static KefuError InvalidState(string why) => new(ErrorCodes.InvalidState, why);
}
