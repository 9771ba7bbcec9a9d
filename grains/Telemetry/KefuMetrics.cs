using System.Diagnostics;
using System.Diagnostics.Metrics;
using Kefu.Contracts.Events;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;

namespace Kefu.Grains.Telemetry;

/// <summary>
/// The <c>Kefu</c> meter: every instrument of the chat path and its side effects, one static place so that each count
/// is one line where it happens (docs/operations.md lists them). Without a listener (telemetry off) a measurement is a
/// check of one flag. Tags are few and bounded (role, outcome, status…); the tenant is added only when
/// <see cref="TenantTags"/> is on (Kefu:Telemetry:TenantTag), because a cluster may hold thousands of tenants.
/// </summary>
public static class KefuMetrics
{
    public const string MeterName = "Kefu";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Buckets in seconds for the chat path: an ack takes milliseconds, a slow one a second or more.</summary>
    private static readonly double[] FastBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>Buckets in seconds for waits people feel: a queue wait runs from seconds to an hour.</summary>
    private static readonly double[] WaitBuckets = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200];

    public static readonly Counter<long> MessagesDelivered = Meter.CreateCounter<long>(
        "kefu.messages.delivered", "{message}", "Messages pushed live to a client connection (one per recipient connection).");

    public static readonly Histogram<double> AckDuration = Meter.CreateHistogram<double>(
        "kefu.ack.duration", "s", "From a send frame read by the gateway to its answer (the ack, or the error a client can act on).",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = FastBuckets });

    public static readonly UpDownCounter<long> Connections = Meter.CreateUpDownCounter<long>(
        "kefu.connections", "{connection}", "Open client WebSocket connections on this gateway.");

    public static readonly UpDownCounter<long> Conversations = Meter.CreateUpDownCounter<long>(
        "kefu.conversations", "{conversation}",
        "Conversations entering (+1) and leaving (-1) each status, as committed by the conversation grains of this silo since it started. Sum over silos; resets with a silo restart.");

    public static readonly Histogram<double> QueueWait = Meter.CreateHistogram<double>(
        "kefu.queue.wait", "s", "How long a conversation waited in its queue before an agent got it.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = WaitBuckets });

    public static readonly Counter<long> DispatcherDecisions = Meter.CreateCounter<long>(
        "kefu.dispatcher.decisions", "{decision}", "Assignments made by the dispatchers (assigned by policy, or claimed by an agent).");

    public static readonly Counter<long> WebhookDeliveries = Meter.CreateCounter<long>(
        "kefu.webhook.deliveries", "{attempt}", "Webhook delivery attempts by outcome (succeeded, failed).");

    public static readonly Counter<long> WebhookFailures = Meter.CreateCounter<long>(
        "kefu.webhook.failures", "{attempt}", "Failed webhook delivery attempts by reason (http_4xx, http_5xx, no_answer).");

    public static readonly Histogram<double> WebhookDuration = Meter.CreateHistogram<double>(
        "kefu.webhook.duration", "s", "How long a webhook receiver took to answer a delivery.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = FastBuckets });

    public static readonly Counter<long> RuleExecutions = Meter.CreateCounter<long>(
        "kefu.routing.rule.executions", "{execution}", "Routing routes run, by outcome (succeeded, failed, timed_out, dropped…).");

    public static readonly Counter<long> PluginCalls = Meter.CreateCounter<long>(
        "kefu.plugin.calls", "{call}", "Plugin (WASM) calls by hook and outcome (ok or the plugin error code).");

    /// <summary>Whether measurements carry a <c>tenant</c> tag (off by default: unbounded cardinality).</summary>
    public static bool TenantTags { get; set; }

    /// <summary>Every instrument of the meter, for the docs and the dashboard check.</summary>
    public static IReadOnlyList<Instrument> Instruments { get; } =
    [
        MessagesDelivered, AckDuration, Connections, Conversations, QueueWait, DispatcherDecisions, WebhookDeliveries,
        WebhookFailures, WebhookDuration, RuleExecutions, PluginCalls,
    ];

    public static string RoleTag(ParticipantRole role) => role switch
    {
        ParticipantRole.Visitor => "visitor",
        ParticipantRole.Agent => "agent",
        ParticipantRole.Bot => "bot",
        _ => "system",
    };

    /// <summary>A live message reached a connection of <paramref name="recipient"/>.</summary>
    public static void Delivered(Caller recipient)
    {
        if (MessagesDelivered.Enabled)
        {
            MessagesDelivered.Add(1, WithTenant(new TagList { { "role", RoleTag(recipient.Role) } }, recipient.Tenant));
        }
    }

    public static void ConnectionOpened(Caller caller) => ConnectionChanged(caller, +1);

    public static void ConnectionClosed(Caller caller) => ConnectionChanged(caller, -1);

    /// <summary>A conversation's committed events: a creation enters its status, a status change leaves one and enters another.</summary>
    public static void ConversationsChanged(IReadOnlyList<DomainEvent> events)
    {
        if (!Conversations.Enabled)
        {
            return;
        }

        foreach (var e in events)
        {
            switch (e.Data)
            {
                case ConversationCreated created:
                    Conversations.Add(1, WithTenant(new TagList { { "status", created.Conversation.Status } }, e.Tenant));
                    break;
                case ConversationStatusChanged changed:
                    Conversations.Add(-1, WithTenant(new TagList { { "status", changed.From } }, e.Tenant));
                    Conversations.Add(1, WithTenant(new TagList { { "status", changed.To } }, e.Tenant));
                    break;
            }
        }
    }

    /// <summary>A dispatcher gave a conversation to an agent (<paramref name="claimed"/>: the agent took it).</summary>
    public static void Assigned(string tenant, DateTimeOffset enqueuedAt, DateTimeOffset now, bool claimed)
    {
        var decision = claimed ? "claimed" : "assigned";
        if (DispatcherDecisions.Enabled)
        {
            DispatcherDecisions.Add(1, WithTenant(new TagList { { "decision", decision } }, tenant));
        }

        if (QueueWait.Enabled && enqueuedAt != default)
        {
            QueueWait.Record(Math.Max(0, (now - enqueuedAt).TotalSeconds), WithTenant(new TagList { { "decision", decision } }, tenant));
        }
    }

    /// <param name="status">The receiver's HTTP status; null when it did not answer (timeout, refused, DNS…).</param>
    public static void WebhookAttempt(string tenant, int? status, int latencyMs)
    {
        var succeeded = status is >= 200 and < 300;
        WebhookDeliveries.Add(1, WithTenant(new TagList { { "outcome", succeeded ? "succeeded" : "failed" } }, tenant));
        if (!succeeded)
        {
            var reason = status switch { null => "no_answer", >= 500 => "http_5xx", >= 400 => "http_4xx", _ => "http_other" };
            WebhookFailures.Add(1, WithTenant(new TagList { { "reason", reason } }, tenant));
        }

        if (status is not null)
        {
            WebhookDuration.Record(latencyMs / 1000.0);
        }
    }

    /// <summary>Counts a routing route's run by its outcome and hands the record on (so the runner counts in its one return).</summary>
    public static RouteExecuted Counted(RouteExecuted execution)
    {
        RuleExecutions.Add(1, new KeyValuePair<string, object?>("outcome", execution.Outcome));
        return execution;
    }

    public static void PluginCalled(string hook, string? errorCode) =>
        PluginCalls.Add(1, new KeyValuePair<string, object?>("hook", hook), new KeyValuePair<string, object?>("outcome", errorCode ?? "ok"));

    private static void ConnectionChanged(Caller caller, int delta)
    {
        if (Connections.Enabled)
        {
            Connections.Add(delta, WithTenant(new TagList { { "role", RoleTag(caller.Role) } }, caller.Tenant));
        }
    }

    internal static TagList WithTenant(TagList tags, string tenant)
    {
        if (TenantTags)
        {
            tags.Add("tenant", tenant);
        }

        return tags;
    }
}
