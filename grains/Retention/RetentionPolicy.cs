using Kefu.Contracts.Messages;
using Kefu.Grains.Attachments;
using Kefu.Grains.DataProtection;
using Kefu.Grains.Events;

namespace Kefu.Grains.Retention;

/// <summary>
/// How many days a tenant keeps each kind of data (issue #20 item 5); null: the global default — messages forever,
/// attachments <c>Kefu:Attachments:RetentionDays</c>, events <c>Kefu:Events:Retention</c>.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RetentionPolicy(
    [property: Id(0)] int? MessagesDays,
    [property: Id(1)] int? AttachmentsDays,
    [property: Id(2)] int? EventsDays)
{
    public static readonly RetentionPolicy Default = new(null, null, null);

    public bool IsDefault => MessagesDays is null && AttachmentsDays is null && EventsDays is null;
}

/// <summary>A tenant's policy as stored and what it means with the defaults filled in (null effective days: forever).</summary>
[GenerateSerializer, Immutable]
public sealed record RetentionPolicyView(
    [property: Id(0)] RetentionPolicy Policy,
    [property: Id(1)] int? EffectiveMessagesDays,
    [property: Id(2)] int? EffectiveAttachmentsDays,
    [property: Id(3)] int EffectiveEventsDays,
    [property: Id(4)] DateTimeOffset? UpdatedAt,
    [property: Id(5)] string? UpdatedBy,
    [property: Id(6)] int MaxEventsDays);

/// <summary>The global defaults a tenant's policy falls back to, read from configuration.</summary>
public sealed record RetentionDefaults(int? AttachmentsDays, TimeSpan EventRetention)
{
    public static RetentionDefaults From(AttachmentOptions attachments, EventLogOptions events) =>
        new(attachments.RetentionDays > 0 ? attachments.RetentionDays : null, events.Retention);

    /// <summary>The longest whole number of days the global event retention keeps (a policy may only shorten it).</summary>
    public int EventDays => Math.Max(1, (int)Math.Floor(EventRetention.TotalDays));
}

/// <summary>The rules of a retention policy: what may be set, and the cutoffs it means at a given time.</summary>
public static class RetentionRules
{
    public const int MinDays = 1;
    public const int MaxDays = 3650;

    /// <summary>
    /// Null when <paramref name="policy"/> may be stored. Each value is 1..3650 days or null. Events may not be kept
    /// longer than the global <c>Kefu:Events:Retention</c>: every silo deletes older events whatever a tenant says (the
    /// outbox is shared), so accepting a longer value would promise what is not kept. Messages and attachments may be
    /// longer than their default: the retention job honours a tenant's own value over the default.
    /// </summary>
    public static KefuError? Validate(RetentionPolicy policy, RetentionDefaults defaults)
    {
        foreach (var (field, days) in new[] { ("messagesDays", policy.MessagesDays), ("attachmentsDays", policy.AttachmentsDays), ("eventsDays", policy.EventsDays) })
        {
            if (days is { } d && d is < MinDays or > MaxDays)
            {
                return KefuError.Invalid($"{field} must be {MinDays} to {MaxDays} days, or null for the default.");
            }
        }

        if (policy.EventsDays is { } events && events > defaults.EventDays)
        {
            return KefuError.Invalid($"eventsDays may not exceed the global event retention of {defaults.EventDays} days (Kefu:Events:Retention).");
        }

        return null;
    }

    public static RetentionPolicyView View(RetentionPolicy policy, RetentionDefaults defaults, DateTimeOffset? updatedAt, string? updatedBy) =>
        new(policy, policy.MessagesDays, policy.AttachmentsDays ?? defaults.AttachmentsDays, policy.EventsDays ?? defaults.EventDays, updatedAt, updatedBy, defaults.EventDays);

    /// <summary>Everything created before a cutoff goes; a null cutoff keeps that kind forever.</summary>
    public static RetentionCutoffs Cutoffs(RetentionPolicy policy, RetentionDefaults defaults, DateTimeOffset now) =>
        new(
            policy.MessagesDays is { } m ? now - TimeSpan.FromDays(m) : null,
            (policy.AttachmentsDays ?? defaults.AttachmentsDays) is { } a ? now - TimeSpan.FromDays(a) : null,
            now - (policy.EventsDays is { } e ? TimeSpan.FromDays(e) : defaults.EventRetention));
}
