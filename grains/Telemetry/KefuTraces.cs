using System.Diagnostics;
using Kefu.Contracts.Identity;

namespace Kefu.Grains.Telemetry;

/// <summary>
/// The <c>Kefu</c> activity source: the spans Kefu adds between the ones ASP.NET Core, HttpClient, Orleans and
/// MySqlConnector make. Without a listener <see cref="ActivitySource.StartActivity(string, ActivityKind)"/> returns null
/// and nothing is allocated.
/// </summary>
public static class KefuTraces
{
    public const string SourceName = "Kefu";

    /// <summary>The activity sources Orleans 10 writes to (grain calls on both sides, grain storage).</summary>
    public static readonly string[] OrleansSources = ["Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application", "Microsoft.Orleans.Storage"];

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>
    /// A WebSocket <c>send</c>: the root of its own trace (a connection lives for hours; its upgrade request would make one
    /// endless trace of every send), linked to the connection's request span. Also times the answer for
    /// <see cref="KefuMetrics.AckDuration"/>. Call from an async method: the cleared <see cref="System.Diagnostics.Activity.Current"/> does
    /// not flow back to its caller.
    /// </summary>
    public static SendScope StartSend(Caller caller, string? conversationId, string? clientMsgId)
    {
        System.Diagnostics.Activity? activity = null;
        if (Source.HasListeners())
        {
            var connection = System.Diagnostics.Activity.Current;
            System.Diagnostics.Activity.Current = null;
            activity = Source.StartActivity(
                "ws send", ActivityKind.Server, default(ActivityContext),
                links: connection is null ? null : [new ActivityLink(connection.Context)]);
            activity?.SetTag("kefu.role", KefuMetrics.RoleTag(caller.Role));
            activity?.SetTag("kefu.conversation_id", conversationId);
            activity?.SetTag("kefu.client_msg_id", clientMsgId);
        }

        return new SendScope(caller, activity, Stopwatch.GetTimestamp());
    }

    /// <summary>A span inside a grain around one step of its own (a store append); null when nobody listens.</summary>
    public static System.Diagnostics.Activity? Step(string name) => Source.StartActivity(name, ActivityKind.Internal);

    /// <summary>
    /// A webhook delivery runs later, from the outbox (a grain timer or wake-up): it starts its own trace (docs/operations.md)
    /// rather than continue whatever grain call happened to wake the endpoint. Its HTTP request span is a child, and
    /// the W3C <c>traceparent</c> header the receiver gets names this trace.
    /// </summary>
    public static System.Diagnostics.Activity? StartDelivery(string name, string eventType, string eventId)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        System.Diagnostics.Activity.Current = null;
        var activity = Source.StartActivity(name, ActivityKind.Producer, default(ActivityContext));
        activity?.SetTag("kefu.event_type", eventType);
        activity?.SetTag("kefu.event_id", eventId);
        return activity;
    }

    /// <summary>The running send: <see cref="Answered"/> records the ack time; disposing ends the span (an error if not answered).</summary>
    public readonly struct SendScope(Caller caller, System.Diagnostics.Activity? activity, long started) : IDisposable
    {
        public byte[]? Answered(byte[]? answer)
        {
            if (KefuMetrics.AckDuration.Enabled)
            {
                KefuMetrics.AckDuration.Record(
                    Stopwatch.GetElapsedTime(started).TotalSeconds,
                    KefuMetrics.WithTenant(new TagList { { "role", KefuMetrics.RoleTag(caller.Role) } }, caller.Tenant));
            }

            activity?.SetStatus(ActivityStatusCode.Ok);
            return answer;
        }

        public void Dispose()
        {
            if (activity is null)
            {
                return;
            }

            if (activity.Status == ActivityStatusCode.Unset)
            {
                activity.SetStatus(ActivityStatusCode.Error, "no answer (the grain call failed or the connection ended)");
            }

            activity.Dispose();
        }
    }
}
