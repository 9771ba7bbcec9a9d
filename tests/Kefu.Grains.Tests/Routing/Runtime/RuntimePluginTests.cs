using System.Diagnostics;
using System.Text.Json;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Contracts.Plugins;
using Kefu.Grains.Routing;
using Kefu.Grains.Tests.Infrastructure;
using Kefu.Grains.Tests.Plugins;
using static Kefu.Grains.Tests.Routing.Runtime.Rules;

namespace Kefu.Grains.Tests.Routing.Runtime;

/// <summary>
/// The routing action <c>plugin: name</c> (issue #19, docs/plugins.md "Where plugins run"): each action kind applied, a
/// <c>set</c> value in a later step's template, <c>drop</c> stopping the route without failing it, a failed call recorded
/// with its code and fuel, and a looping plugin stopped at the route's deadline.
/// </summary>
public sealed class RuntimePluginTests(RoutingRuntimeFixture fixture) : IClassFixture<RoutingRuntimeFixture>
{
    private IClusterClient Client => fixture.Client;

    [Fact]
    public async Task A_plugin_step_tags_replies_sets_an_attribute_emits_and_its_set_value_fills_a_later_template()
    {
        var tenant = Scenario.NewTenant();
        await UploadAsync(tenant, "triage", TestPlugins.Emitting(
        [
            """{"action":"tag","tag":"order"}""",
            """{"action":"reply","text":"我们正在查询您的订单"}""",
            """{"action":"set_attribute","key":"last_intent","value":"order"}""",
            """{"action":"emit","name":"order_question","data":{"order":"123"}}""",
            """{"action":"set","name":"category","value":"orders"}""",
        ]));
        await SetAsync(Client, tenant, [Route("triage", "order_status", new PluginStep(0, 1, "triage"), new ReplyTemplateStep(1, 1, T("类别：{plugin.category}")))]);
        var contactId = Ulid.NewUlid().ToString();
        var contact = Client.GetGrain<IContactGrain>(Tenancy.Key(tenant, contactId));
        await contact.Create(null, new ContactPatch("Ann"), Causation.Of("test"));
        var visitorId = Scenario.NewId("v");
        var visitorGrain = Client.GetGrain<IVisitorGrain>(Tenancy.Key(tenant, visitorId));
        await visitorGrain.Register(new VisitorProfile("Ann", null, Tenancy.DefaultInbox, [], DateTimeOffset.UtcNow, contactId));
        var visitor = new TestVisitor(tenant, visitorId, new Caller(tenant, ParticipantRole.Visitor, visitorId, "Ann", false), visitorGrain);
        var (conversationId, conversation) = await Scenario.StartConversationAsync(Client, visitor);

        var eventId = await InboundAsync(Client, tenant, "order_status", """{"order_id":"123"}""", conversationId);

        var executed = Assert.Single(await WaitForExecutionsAsync(Client, tenant, 1));
        Assert.True(executed.Outcome == RouteOutcomes.Succeeded, executed.Error);
        var step = executed.Steps[0];
        Assert.Equal(("plugin", "triage", RouteOutcomes.Succeeded), (step.Action, step.Target, step.Outcome));
        Assert.True(step.Fuel > 0, "the record carries the fuel the call used");
        Assert.Equal(["我们正在查询您的订单", "类别：orders"], (await BotMessagesAsync(conversation, visitor.Caller)).Select(m => m.Text));
        Assert.Contains("order", (await conversation.GetSummary())!.Tags ?? []);
        Assert.Equal("order", (await contact.Get())!.Attributes["last_intent"]);
        var emitted = (await EventsAsync(Client, tenant)).Single(e => e.Type == EventTypes.PluginEmitted);
        using var data = JsonDocument.Parse(emitted.DataJson);
        Assert.Equal(("triage", "order_question", "123", conversationId), (data.RootElement.GetProperty("plugin").GetString(), data.RootElement.GetProperty("name").GetString(),
            data.RootElement.GetProperty("data").GetProperty("order").GetString(), data.RootElement.GetProperty("conversationId").GetString()));
        Assert.Equal((Causation.Rule, eventId), (emitted.Causation.Kind, emitted.Causation.TriggerEventId));
    }

    [Fact]
    public async Task The_plugin_gets_the_events_envelope_and_the_routes_values()
    {
        var tenant = Scenario.NewTenant();
        // A WAT test plugin cannot echo its input back, so the input is checked as the runner composes it from the stored trigger.
        await UploadAsync(tenant, "echo", TestPlugins.Emitting(["""{"action":"set","name":"seen","value":"yes"}"""]));
        await SetAsync(Client, tenant, [Route("echo", "order_status", new PluginStep(0, 1, "echo"), new PluginStep(1, 1, "echo"))]);

        var eventId = await InboundAsync(Client, tenant, "order_status", """{"order_id":"77"}""");

        var executed = Assert.Single(await WaitForExecutionsAsync(Client, tenant, 1));
        Assert.Equal(RouteOutcomes.Succeeded, executed.Outcome);
        var stored = (await EventsAsync(Client, tenant)).Single(e => e.Id.ToString() == eventId);
        var input = JsonDocument.Parse(Kefu.Grains.Routing.Runtime.PluginStepInput.Compose(RoutingEvent.FromStored(stored),
            new Dictionary<string, string> { ["order"] = "77" }, new Dictionary<string, string> { ["seen"] = "yes" })).RootElement;
        var envelope = input.GetProperty("event");
        Assert.Equal((eventId, "inbound.received", tenant, "order_status", "77"), (envelope.GetProperty("id").GetString(), envelope.GetProperty("type").GetString(),
            envelope.GetProperty("tenant").GetString(), envelope.GetProperty("data").GetProperty("type").GetString(),
            envelope.GetProperty("data").GetProperty("data").GetProperty("order_id").GetString()));
        Assert.Equal(EventCursor.Format(stored.Cursor), envelope.GetProperty("cursor").GetString());
        Assert.Equal(("77", "yes"), (input.GetProperty("vars").GetProperty("order").GetString(), input.GetProperty("vars").GetProperty("plugin").GetProperty("seen").GetString()));
    }

    [Fact]
    public async Task A_plugin_that_drops_stops_the_route_as_dropped_not_failed()
    {
        var tenant = Scenario.NewTenant();
        await UploadAsync(tenant, "gate", TestPlugins.Emitting(["""{"action":"drop","reason":"spam"}""", """{"action":"tag","tag":"never"}"""]));
        await SetAsync(Client, tenant, [Route("gated", "order_status", new PluginStep(0, 1, "gate"), new TagStep(1, 1, ["after"]))]);
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var (conversationId, conversation) = await Scenario.StartConversationAsync(Client, visitor);

        await InboundAsync(Client, tenant, "order_status", "{}", conversationId);

        var executed = Assert.Single(await WaitForExecutionsAsync(Client, tenant, 1));
        Assert.Equal(RouteOutcomes.Dropped, executed.Outcome);
        Assert.Contains("spam", executed.Error, StringComparison.Ordinal);
        Assert.Equal([RouteOutcomes.Succeeded, RouteOutcomes.Skipped], executed.Steps.Select(s => s.Outcome));
        Assert.Empty((await conversation.GetSummary())!.Tags ?? []);
    }

    [Fact]
    public async Task A_failed_call_fails_the_step_with_its_code_elapsed_time_and_fuel_and_is_not_retried()
    {
        var tenant = Scenario.NewTenant();
        await UploadAsync(tenant, "trap", TestPlugins.Trapping());
        await SetAsync(Client, tenant,
        [
            Route("traps", "order_status", new PluginStep(0, 1, "trap"), new TagStep(1, 1, ["after"])) with { Retry = new RetrySpec(3, TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(10)) },
            Route("missing", "lookup", new PluginStep(0, 1, "nobody") { OnError = OnError.Continue }, new EmitStep(1, 1, "custom.after", new Dictionary<string, Template>())),
        ]);

        await InboundAsync(Client, tenant, "order_status", "{}");
        await InboundAsync(Client, tenant, "lookup", "{}");

        var executions = await WaitForExecutionsAsync(Client, tenant, 2);
        var traps = executions.Single(e => e.RouteId == "traps");
        Assert.Equal(RouteOutcomes.Failed, traps.Outcome);
        Assert.Equal([RouteOutcomes.Failed, RouteOutcomes.Skipped], traps.Steps.Select(s => s.Outcome));
        Assert.StartsWith(PluginErrorCodes.Trap, traps.Steps[0].Error, StringComparison.Ordinal);
        Assert.Equal(1, traps.Steps[0].Attempts);
        Assert.NotNull(traps.Steps[0].Fuel);
        Assert.Equal(1, (await Client.GetGrain<IPluginGrain>($"{tenant}/trap").GetStats()).Calls);
        var missing = executions.Single(e => e.RouteId == "missing");
        Assert.Equal(RouteOutcomes.Succeeded, missing.Outcome);
        Assert.Equal([RouteOutcomes.FailedContinued, RouteOutcomes.Succeeded], missing.Steps.Select(s => s.Outcome));
        Assert.StartsWith(PluginErrorCodes.NotFound, missing.Steps[0].Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_looping_plugin_is_stopped_at_the_routes_deadline()
    {
        var tenant = Scenario.NewTenant();
        var manifest = TestPlugins.Manifest("loop", [PluginHooks.Route]) with { Limits = new PluginLimits(1_000_000_000, 2_000, 1) };
        var put = await Client.GetGrain<IPluginRegistryGrain>(tenant).Put(new PluginUpload("loop", TestPlugins.Emitting([], Spin), manifest, "admin"));
        Assert.True(put.IsOk, put.Error?.Message);
        await SetAsync(Client, tenant, [Route("spins", "order_status", new PluginStep(0, 1, "loop"), new TagStep(1, 1, ["after"])) with { Timeout = TimeSpan.FromMilliseconds(300) }]);

        var clock = Stopwatch.StartNew();
        await InboundAsync(Client, tenant, "order_status", "{}");

        var executed = Assert.Single(await WaitForExecutionsAsync(Client, tenant, 1));
        Assert.True(executed.Outcome == RouteOutcomes.TimedOut, $"{executed.Outcome} after {executed.ElapsedMs} ms (step {executed.Steps[0].ElapsedMs} ms, fuel {executed.Steps[0].Fuel}): {executed.Error}");
        Assert.Equal([RouteOutcomes.TimedOut, RouteOutcomes.Skipped], executed.Steps.Select(s => s.Outcome));
        // Stopped at the route's 300 ms, long before the plugin's own 2 s (a busy test machine adds scheduling delay).
        Assert.InRange(executed.ElapsedMs, 250, 1500);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10));
    }

    private const string Spin = "(loop $spin (br $spin))";

    private async Task UploadAsync(string tenant, string name, byte[] wasm)
    {
        var put = await Client.GetGrain<IPluginRegistryGrain>(tenant).Put(new PluginUpload(name, wasm, TestPlugins.Manifest(name, [PluginHooks.Route]), "admin"));
        Assert.True(put.IsOk, put.Error?.Message);
    }
}
