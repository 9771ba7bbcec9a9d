using System.Text;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Routing;
using Kefu.Grains.Routing.Runtime;
using Kefu.Grains.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using static Kefu.Grains.Tests.Routing.Runtime.Rules;

namespace Kefu.Grains.Tests.Routing.Runtime;

/// <summary>
/// What keeps rules safe and exact (issue #15): the loop guard, once_per / cooldown, every event run once when many
/// arrive at once, the rules grain (hash, version, unchanged, size), and the file loaded and reloaded.
/// </summary>
public sealed class RuntimeGuardTests(RoutingRuntimeFixture fixture) : IClassFixture<RoutingRuntimeFixture>
{
    private IClusterClient Client => fixture.Client;

    [Fact]
    public async Task A_ping_pong_pair_of_emit_rules_stops_at_depth_three()
    {
        var tenant = Scenario.NewTenant();
        var empty = new Dictionary<string, Template>();
        await SetAsync(Client, tenant,
        [
            Route("start", "kick_off", new EmitStep(0, 1, "custom.ping", empty)),
            Route("ping", "custom.ping", new EmitStep(0, 1, "custom.pong", empty)),
            Route("pong", "custom.pong", new EmitStep(0, 1, "custom.ping", empty)),
        ]);

        await InboundAsync(Client, tenant, "kick_off", "{}");

        await WaitForExecutionsAsync(Client, tenant, 3);
        await WaitForQuietAsync(Client, tenant);
        var events = await EventsAsync(Client, tenant, "custom.ping", "custom.pong");
        var custom = events.Where(e => EventTypes.IsCustom(e.Type)).ToList();
        Assert.Equal(["custom.ping", "custom.pong", "custom.ping"], custom.Select(e => e.Type));
        Assert.Equal([1, 2, 3], custom.Select(e => e.Causation.Depth));
        // One execution per route; their records are written as each finishes, not in causal order.
        Assert.Equal(["ping", "pong", "start"], (await ExecutionsAsync(Client, tenant)).Select(e => e.RouteId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Once_per_conversation_runs_a_route_once_and_records_the_refusal()
    {
        var tenant = Scenario.NewTenant();
        await SetAsync(Client, tenant, [Route("welcome", "hello", new ReplyTemplateStep(0, 1, T("欢迎"))) with { OncePer = "conversation" }]);
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var (conversationId, conversation) = await Scenario.StartConversationAsync(Client, visitor);

        await InboundAsync(Client, tenant, "hello", "{}", conversationId);
        await WaitForExecutionsAsync(Client, tenant, 1);
        await InboundAsync(Client, tenant, "hello", "{}", conversationId);

        var executions = await WaitForExecutionsAsync(Client, tenant, 2);
        Assert.Equal([RouteOutcomes.Succeeded, RouteOutcomes.Skipped], executions.Select(e => e.Outcome));
        Assert.StartsWith("once_per", executions[1].Error, StringComparison.Ordinal);
        Assert.Single(await BotMessagesAsync(conversation, visitor.Caller));
    }

    [Fact]
    public async Task A_cooldown_holds_a_route_back_in_one_conversation_only()
    {
        var tenant = Scenario.NewTenant();
        await SetAsync(Client, tenant, [Route("nudge", "hello", new ReplyTemplateStep(0, 1, T("在的"))) with { Cooldown = TimeSpan.FromHours(1) }]);
        var first = await Scenario.NewVisitorAsync(Client, tenant);
        var (firstId, firstConversation) = await Scenario.StartConversationAsync(Client, first);
        var second = await Scenario.NewVisitorAsync(Client, tenant);
        var (secondId, secondConversation) = await Scenario.StartConversationAsync(Client, second);

        await InboundAsync(Client, tenant, "hello", "{}", firstId);
        await WaitForExecutionsAsync(Client, tenant, 1);
        await InboundAsync(Client, tenant, "hello", "{}", firstId);
        await WaitForExecutionsAsync(Client, tenant, 2);
        await InboundAsync(Client, tenant, "hello", "{}", secondId);

        var executions = await WaitForExecutionsAsync(Client, tenant, 3);
        Assert.Equal([RouteOutcomes.Succeeded, RouteOutcomes.Skipped, RouteOutcomes.Succeeded], executions.Select(e => e.Outcome));
        Assert.Single(await BotMessagesAsync(firstConversation, first.Caller));
        Assert.Single(await BotMessagesAsync(secondConversation, second.Caller));
    }

    [Fact]
    public async Task A_thousand_events_are_each_executed_exactly_once()
    {
        const int Count = 1000;
        var tenant = Scenario.NewTenant();
        var prefix = Scenario.NewId("p");
        var erp = fixture.Erp.Handle(prefix);
        await SetAsync(Client, tenant, [Route("bulk", "bulk_update", new CallStep(0, 1, "ERP", "sync"))], Erp(fixture.Erp.BaseUrl, prefix));

        var ids = new List<string>();
        foreach (var chunk in Enumerable.Range(0, Count).Chunk(50))
        {
            ids.AddRange(await Task.WhenAll(chunk.Select(i => InboundAsync(Client, tenant, "bulk_update", $$"""{"n":{{i}}}"""))));
        }

        var executions = await WaitForExecutionsAsync(Client, tenant, Count, TimeSpan.FromSeconds(90));
        await WaitForQuietAsync(Client, tenant);
        executions = await ExecutionsAsync(Client, tenant);
        Assert.Equal(Count, executions.Count);
        Assert.Equal(ids.Order(StringComparer.Ordinal), executions.Select(e => e.TriggerEventId).Order(StringComparer.Ordinal));
        Assert.All(executions, e => Assert.Equal(RouteOutcomes.Succeeded, e.Outcome));
        var keys = erp.Received.Select(r => r.IdempotencyKey!).ToList();
        Assert.Equal(Count, keys.Count);
        Assert.Equal(Count, keys.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public async Task The_rules_grain_keeps_text_hash_and_version_and_answers_the_same_text_as_unchanged()
    {
        var tenant = Scenario.NewTenant();
        var rules = Client.GetGrain<IRoutingRulesGrain>(tenant);
        Assert.Null(await rules.Get());
        var (text, ruleSet) = TestRuleSets.Register(hash => new RuleSet(1, RoutingDefaults.Standard, new Dictionary<string, ConnectorSpec>(), new Dictionary<string, IntentSpec>(),
            [Route("a", "x"), Route("b", "y")], hash));
        var caller = Admin with { Tenant = tenant };

        var first = await rules.Set(text, RoutingSources.Api, caller);
        var again = await rules.Set(text, RoutingSources.Api, caller);
        var (other, _) = TestRuleSets.Register(hash => ruleSet with { Hash = hash });
        var changed = await rules.Set(other, RoutingSources.File, caller);
        var tooLarge = await rules.Set(new string('#', RoutingLimits.MaxTextBytes + 1), RoutingSources.Api, caller);

        Assert.True(first.Succeeded);
        Assert.Equal((ruleSet.Hash, 1L, 2, "Admin", RoutingSources.Api, text), (first.Rules!.Hash, first.Rules.Version, first.Rules.RouteCount, first.Rules.UpdatedBy, first.Rules.Source, first.Rules.Text));
        Assert.True(again.Unchanged);
        Assert.Equal(1L, again.Rules!.Version);
        Assert.Equal((2L, RoutingSources.File), (changed.Rules!.Version, changed.Rules.Source));
        Assert.False(tooLarge.Succeeded);
        Assert.Equal(changed.Rules, await rules.Get());
    }

    [Fact]
    public async Task The_file_is_loaded_at_start_and_again_when_it_changes()
    {
        var tenant = Scenario.NewTenant();
        var directory = System.IO.Directory.CreateTempSubdirectory("kefu-routing-");
        var path = Path.Combine(directory.FullName, "routing.yaml");
        var (first, firstSet) = TestRuleSets.Register(hash => new RuleSet(1, RoutingDefaults.Standard, new Dictionary<string, ConnectorSpec>(), new Dictionary<string, IntentSpec>(), [Route("a", "x")], hash));
        var (second, secondSet) = TestRuleSets.Register(hash => firstSet with { Hash = hash });
        await File.WriteAllTextAsync(path, first, Encoding.UTF8);
        using var loader = new RoutingFileLoader(Client, Options.Create(new RoutingOptions { File = path, Tenant = tenant }), NullLogger<RoutingFileLoader>.Instance);
        var rules = Client.GetGrain<IRoutingRulesGrain>(tenant);
        try
        {
            await loader.StartWatchingAsync();
            var loaded = await rules.Get();
            Assert.Equal((firstSet.Hash, RoutingSources.File), (loaded!.Hash, loaded.Source));

            await File.WriteAllTextAsync(path, second, Encoding.UTF8);

            var reloaded = await Scenario.EventuallyAsync(rules.Get, r => r?.Hash == secondSet.Hash, "the changed file to be loaded");
            Assert.Equal(2L, reloaded!.Version);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
    [Fact]
    public async Task An_execution_record_is_dropped_once_the_routers_cursor_has_passed_its_event()
    {
        var tenant = Scenario.NewTenant();
        await SetAsync(Client, tenant, [Route("once", "drop_me", new EmitStep(0, 1, "custom.dropped", new Dictionary<string, Template>()))]);
        var eventId = await InboundAsync(Client, tenant, "drop_me", "{}");
        await WaitForExecutionsAsync(Client, tenant, 1);
        await WaitForQuietAsync(Client, tenant);
        var trigger = (await EventsAsync(Client, tenant)).Single(e => e.Id.ToString() == eventId);
        var execution = Client.GetGrain<IRoutingExecutionGrain>(Tenancy.Key(tenant, eventId));
        var hash = (await Client.GetGrain<IRoutingRulesGrain>(tenant).Get())!.Hash;
        Assert.Single(await execution.Run(trigger, hash, [], null)); // answered from the record while it is active

        await Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        // The record is gone: asked again (nothing will, the router is past it), it has nothing to answer from.
        await Scenario.EventuallyAsync(() => execution.Run(trigger, hash, [], null), r => r.Length == 0, "the record to be dropped");
    }
}
