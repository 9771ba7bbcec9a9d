using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Kefu.Gateway.Tests.Infrastructure;
using Kefu.Gateway.Tests.Webhooks;
using Kefu.Grains.Telemetry;

namespace Kefu.Gateway.Tests.Telemetry;

using Activity = System.Diagnostics.Activity; // not the Kefu.Gateway.Tests.Activity namespace

/// <summary>
/// Issue #20 item 1: one send is one trace, from the gateway's receive through the conversation grain to the store
/// append, with one trace id; a webhook delivery is a trace of its own whose W3C traceparent the receiver gets. Spans are collected by an ActivityListener on the sources the OTLP pipeline exports.
/// </summary>
[Collection(TracingGatewayCollection.Name)]
public sealed class SendTraceTests(TracingGatewayFixture gateway)
{
    [Fact]
    public async Task A_send_is_one_trace_from_the_gateway_through_the_grain_to_the_store()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == KefuTraces.SourceName || KefuTraces.OrleansSources.Contains(source.Name),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        var (_, visitorToken) = await gateway.CreateVisitorAsync("Traced");
        await using var visitor = await gateway.ConnectAsync(visitorToken);
        var conversationId = (await visitor.SendMessageAsync("first")).Str("conversationId")!;
        var clientMsgId = "traced-" + Guid.NewGuid().ToString("N");
        await visitor.SendMessageAsync("follow me", conversationId, clientMsgId);

        // The root span ends with the ack; the grain's spans ended before it.
        var root = await WaitForAsync(spans, a => a.OperationName == "ws send" && (string?)a.GetTagItem("kefu.client_msg_id") == clientMsgId);
        Assert.Equal(default, root.ParentSpanId);
        Assert.Equal(ActivityKind.Server, root.Kind);
        Assert.Equal(ActivityStatusCode.Ok, root.Status);
        Assert.Equal("visitor", root.GetTagItem("kefu.role"));

        var trace = spans.Where(a => a.TraceId == root.TraceId).ToList();
        var append = Assert.Single(trace, a => a.OperationName == "message store append");

        // The grain call, on both sides: the gateway's outgoing call and the conversation grain's incoming one.
        var grainCalls = trace.Where(a => a.Source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal)
            && a.OperationName.Contains("IConversationGrain", StringComparison.Ordinal) && a.OperationName.EndsWith("Send", StringComparison.Ordinal)).ToList();
        Assert.Contains(grainCalls, a => a.Kind == ActivityKind.Client);
        var inGrain = Assert.Single(grainCalls, a => a.Kind == ActivityKind.Server);

        // The append is inside the grain's span, which is inside the send: one chain, one trace id.
        Assert.True(IsInside(append, inGrain, trace), Describe(trace));
        Assert.True(IsInside(inGrain, root, trace), Describe(trace));
        Assert.All(trace, a => Assert.Equal(root.TraceId, a.TraceId));
        Assert.True(root.Duration >= inGrain.Duration);
    }

    [Fact]
    public async Task A_webhook_delivery_is_a_trace_of_its_own_whose_traceparent_the_receiver_gets()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == KefuTraces.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        await using var receiver = await WebhookReceiver.StartAsync();
        using var admin = gateway.Http(await gateway.LoginAsync());
        await WebhookDeliveryTests.CreateAsync(admin, receiver, ["message.created"]);

        var (_, visitorToken) = await gateway.CreateVisitorAsync("Hooked");
        await using var visitor = await gateway.ConnectAsync(visitorToken);
        var conversationId = (await visitor.SendMessageAsync("deliver me")).Str("conversationId")!;

        var delivered = await WaitForWebhookAsync(receiver, conversationId);
        // W3C: version-traceid-parentid-flags (the flags may carry the random-trace-id bit as well as sampled).
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$", delivered.Traceparent);
        var traceId = delivered.Traceparent!.Split('-')[1];
        var span = await WaitForAsync(spans, a => a.OperationName == "webhook deliver" && a.TraceId.ToHexString() == traceId);
        Assert.Equal(ActivityKind.Producer, span.Kind);
        Assert.DoesNotContain(spans, a => a.OperationName == "ws send" && a.TraceId.ToHexString() == traceId); // its own trace, not the send's
    }

    [Fact]
    public async Task Metrics_endpoint_is_off_by_default()
    {
        using var http = gateway.Http();
        var response = await http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private static async Task<ReceivedWebhook> WaitForWebhookAsync(WebhookReceiver receiver, string conversationId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (receiver.Received.FirstOrDefault(r => r.Envelope.Str("conversationId") == conversationId) is { } found)
            {
                return found;
            }

            await Task.Delay(20); // poll interval of the wait, not a pause before an assertion
        }

        throw new TimeoutException($"no webhook for {conversationId} within 20 s");
    }

    private static bool IsInside(Activity inner, Activity outer, List<Activity> trace)
    {
        var byId = trace.ToDictionary(a => a.SpanId);
        for (var current = inner; current is not null; current = byId.GetValueOrDefault(current.ParentSpanId))
        {
            if (current.ParentSpanId == outer.SpanId)
            {
                return true;
            }
        }

        return false;
    }

    private static string Describe(List<Activity> trace) =>
        string.Join('\n', trace.Select(a => $"{a.Source.Name} {a.OperationName} {a.Kind} span={a.SpanId} parent={a.ParentSpanId}"));

    private static async Task<Activity> WaitForAsync(ConcurrentQueue<Activity> spans, Func<Activity, bool> match)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            if (spans.FirstOrDefault(match) is { } found)
            {
                return found;
            }

            Assert.True(DateTime.UtcNow < deadline, "No such span:\n" + string.Join('\n', spans.Select(a => a.OperationName).Distinct()));
            await Task.Delay(20);
        }
    }
}

/// <summary>
/// A gateway whose grain calls carry the trace context without an OTLP exporter (Kefu:Telemetry:Tracing:Enabled): the
/// default gateway has no propagation at all, so its grain calls would start no spans.
/// </summary>
public sealed class TracingGatewayFixture : GatewayFixture
{
    protected override bool StaffDefaultInbox => false;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Kefu:Telemetry:Tracing:Enabled"] = "true",
        ["Kefu:Webhooks:AllowPrivateTargets"] = "true", // the test receiver listens on loopback
    };
}

[CollectionDefinition(Name)]
public sealed class TracingGatewayCollection : ICollectionFixture<TracingGatewayFixture>
{
    public const string Name = "tracing-gateway";
}
