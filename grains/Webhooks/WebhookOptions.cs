using System.Globalization;

namespace Kefu.Grains.Webhooks;

/// <summary>Configuration section <c>Kefu:Webhooks</c> (outbound webhooks, INTEGRATION.md §5).</summary>
public sealed class WebhookOptions
{
    public const string Section = "Kefu:Webhooks";

    /// <summary>The documented schedule: the delay before each retry (attempt 2, 3, …); after the last one a delivery is final.</summary>
    public const string DefaultRetrySchedule = "5s,5m,30m,2h,5h,10h,14h,20h,24h";

    /// <summary>Comma-separated delays with a unit (<c>ms</c>, <c>s</c>, <c>m</c>, <c>h</c>, <c>d</c>): one text so an environment variable can set it whole.</summary>
    public string RetrySchedule { get; set; } = DefaultRetrySchedule;

    /// <summary>Each retry delay is moved by up to this fraction either way, so retries of many events do not arrive as one wave.</summary>
    public double Jitter { get; set; } = 0.1;

    /// <summary>No answer within this is a failed attempt.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Whether targets on private, loopback or link-local addresses are allowed (development and tests only: SSRF).</summary>
    public bool AllowPrivateTargets { get; set; }

    /// <summary>Requests in flight to one endpoint at most.</summary>
    public int MaxConcurrency { get; set; } = 8;

    /// <summary>Events one step reads from the log (and attempts, with <see cref="MaxConcurrency"/> at a time).</summary>
    public int BatchSize { get; set; } = 100;

    /// <summary>How often an endpoint looks for new events and due retries without being woken (events of another silo).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Failed attempts in a row that open the circuit (the endpoint pauses; one probe after the cooldown).</summary>
    public int CircuitBreakerFailures { get; set; } = 10;

    public TimeSpan CircuitBreakerCooldown { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>An endpoint with no successful delivery for this long while failing is disabled (webhook.endpoint_disabled).</summary>
    public TimeSpan DisableAfter { get; set; } = TimeSpan.FromDays(5);

    /// <summary>
    /// Failed deliveries waiting for their retry at most: beyond it the endpoint stops reading new events (they wait in the
    /// event log, nothing is lost), so its state stays small however long it fails.
    /// </summary>
    public int MaxPendingRetries { get; set; } = 1000;

    /// <summary>Attempts kept in the attempt log per endpoint (newest).</summary>
    public int DeliveryLogSize { get; set; } = 200;

    /// <summary>Characters of a response body kept in the attempt log.</summary>
    public int ResponseExcerptLength { get; set; } = 256;

    /// <summary>How long the previous secret keeps signing after a rotation.</summary>
    public TimeSpan SecretOverlap { get; set; } = TimeSpan.FromHours(24);

    /// <summary>A receiver's <c>Retry-After</c> is honoured up to this.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The attempt log is written at most this often (the cursor and retries are written with every step).</summary>
    public TimeSpan LogFlushInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The parsed <see cref="RetrySchedule"/>.</summary>
    public TimeSpan[] RetryDelays() => ParseSchedule(RetrySchedule);

    public static TimeSpan[] ParseSchedule(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var delays = new List<TimeSpan>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var unit = part.EndsWith("ms", StringComparison.Ordinal) ? "ms" : part[^1..];
            if (!double.TryParse(part[..^unit.Length], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) || value < 0)
            {
                throw new FormatException($"Kefu:Webhooks:RetrySchedule: '{part}' is not a delay such as 500ms, 5s, 5m, 2h or 1d.");
            }

            delays.Add(unit switch
            {
                "ms" => TimeSpan.FromMilliseconds(value),
                "s" => TimeSpan.FromSeconds(value),
                "m" => TimeSpan.FromMinutes(value),
                "h" => TimeSpan.FromHours(value),
                "d" => TimeSpan.FromDays(value),
                _ => throw new FormatException($"Kefu:Webhooks:RetrySchedule: '{part}' has no unit (ms, s, m, h or d)."),
            });
        }

        return [.. delays];
    }
}
