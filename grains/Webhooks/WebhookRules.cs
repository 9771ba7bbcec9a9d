using System.Globalization;
using System.Net.Http.Headers;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;

namespace Kefu.Grains.Webhooks;

/// <summary>The plain rules of endpoints: what a valid endpoint is, which events it takes, when to retry. Unit-tested without a cluster.</summary>
public static class WebhookRules
{
    public const string AllEvents = "*";
    public const int MaxUrlLength = 2048;
    public const int MaxDescriptionLength = 500;
    public const int MaxInboxes = 100;

    /// <summary>Endpoints a tenant may have: each one reads the event log on its own.</summary>
    public const int MaxEndpoints = 50;

    /// <summary>The problem code of a create beyond <see cref="MaxEndpoints"/>.</summary>
    public const string TooManyEndpoints = "too_many_endpoints";

    /// <summary>The endpoint after <paramref name="patch"/>, or why it would be invalid.</summary>
    public static Outcome<WebhookEndpoint> Apply(WebhookEndpoint endpoint, WebhookEndpointPatch patch, bool allowPrivateTargets, DateTimeOffset now)
    {
        var next = endpoint with
        {
            Url = patch.Url ?? endpoint.Url,
            Events = patch.Events ?? endpoint.Events,
            Inboxes = patch.Inboxes is null ? endpoint.Inboxes : patch.Inboxes.Length == 0 ? null : patch.Inboxes,
            Description = patch.Description ?? endpoint.Description,
            UpdatedAt = now,
        };
        if (patch.Enabled is { } enabled)
        {
            next = next with { Enabled = enabled, DisabledReason = enabled ? null : "disabled by an administrator" };
        }

        return Validate(next, allowPrivateTargets) is { } error ? error : next;
    }

    public static KefuError? Validate(WebhookEndpoint endpoint, bool allowPrivateTargets)
    {
        if (WebhookTargets.CheckUrl(endpoint.Url, allowPrivateTargets) is { } urlError)
        {
            return urlError;
        }

        if (endpoint.Events is not { Length: > 0 } || endpoint.Events.Length > EventTypes.All.Length + 1)
        {
            return KefuError.Invalid($"events must list event types ({string.Join(", ", EventTypes.All)}) or \"*\".");
        }

        foreach (var type in endpoint.Events)
        {
            if (type != AllEvents && !EventTypes.IsKnown(type))
            {
                return KefuError.Invalid($"events: '{type}' is not an event type; use one of {string.Join(", ", EventTypes.All)} or \"*\".");
            }
        }

        if (endpoint.Inboxes is { } inboxes && (inboxes.Length > MaxInboxes || inboxes.Any(string.IsNullOrWhiteSpace)))
        {
            return KefuError.Invalid($"inboxes must be at most {MaxInboxes} inbox ids.");
        }

        return endpoint.Description is { Length: > MaxDescriptionLength }
            ? KefuError.Invalid($"description must be at most {MaxDescriptionLength} characters.")
            : null;
    }

    /// <summary>
    /// The types to read from the event log: null for <c>*</c> alone (every type except explicit-only ones), every type
    /// when <c>*</c> comes with an explicit-only one (note.created), else the named ones.
    /// </summary>
    public static string[]? TypesToRead(string[] events)
    {
        if (!events.Contains(AllEvents))
        {
            return [.. events.Distinct(StringComparer.Ordinal)];
        }

        return events.Any(EventTypes.IsExplicitOnly) ? EventTypes.All : null;
    }

    /// <summary>
    /// When the attempt that just failed (1-based <paramref name="attempt"/>) is retried: the schedule's delay (moved by
    /// up to ±jitter), not before the receiver's <c>Retry-After</c>; null when the schedule is exhausted.
    /// </summary>
    public static TimeSpan? RetryDelay(int attempt, TimeSpan[] schedule, double jitter, TimeSpan? retryAfter, TimeSpan maxRetryAfter, double random)
    {
        if (attempt < 1 || attempt > schedule.Length)
        {
            return null;
        }

        var delay = schedule[attempt - 1] * (1 + (jitter * ((2 * random) - 1)));
        if (retryAfter is { } wait && wait > delay)
        {
            delay = wait < maxRetryAfter ? wait : maxRetryAfter;
        }

        return delay < TimeSpan.Zero ? TimeSpan.Zero : delay;
    }

    /// <summary>A <c>Retry-After</c> header (seconds or an HTTP date) as a delay from <paramref name="now"/>.</summary>
    public static TimeSpan? RetryAfter(RetryConditionHeaderValue? header, DateTimeOffset now) => header switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date > now ? date - now : TimeSpan.Zero,
        _ => null,
    };
}
