using System.Collections.Concurrent;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Events;
using Kefu.Grains.Hosting;
using Kefu.Grains.Participants;
using Kefu.Grains.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Orleans.TestingHost;

namespace Kefu.Grains.Tests.Paths;

/// <summary>Records the grain calls the silo receives: which grain (key) was called with which method.</summary>
public sealed class SiloCallProbe : IIncomingGrainCallFilter
{
    public static readonly SiloCallProbe Instance = new();

    private readonly ConcurrentQueue<(string Method, string Key)> _calls = new();

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        _calls.Enqueue((context.MethodName, context.TargetId.Key.ToString()!));
        await context.Invoke();
    }

    public int CallsTo(string grainKey, string? method = null) => _calls.Count(c => c.Key == grainKey && (method is null || c.Method == method));
}

/// <summary>A silo whose incoming grain calls are recorded by <see cref="SiloCallProbe"/>.</summary>
public sealed class ProbedClusterFixture : IAsyncLifetime
{
    private InProcessTestCluster? _cluster;

    public InProcessTestCluster Cluster => _cluster ?? throw new InvalidOperationException("The cluster is not started.");

    public IClusterClient Client => Cluster.Client;

    /// <summary>The silo's registered sinks (as a conversation's commit would call them).</summary>
    public IEnumerable<IConversationEventSink> Sinks => Cluster.Silos[0].ServiceProvider.GetServices<IConversationEventSink>();

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddKefuGrains(new ConfigurationBuilder().Build());
            silo.Services.AddSingleton<IIncomingGrainCallFilter>(SiloCallProbe.Instance);
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ProbedClusterCollection : ICollectionFixture<ProbedClusterFixture>
{
    public const string Name = "Kefu probed cluster";
}

/// <summary>
/// An agent's reconnect no longer wakes every conversation it ever had: presence changes go only to its active
/// conversations, kept by the agent roster sink (issue #13, item 3).
/// </summary>
[Collection(ProbedClusterCollection.Name)]
public sealed class AgentReconnectTests(ProbedClusterFixture fixture)
{
    private IClusterClient Client => fixture.Client;

    [Fact]
    public async Task An_agent_with_resolved_conversations_reconnects_without_calling_any_of_them()
    {
        var tenant = Scenario.NewTenant();
        var agent = await Scenario.NewOnlineAgentAsync(Client, tenant);
        var conversations = new List<(string Id, IConversationGrain Grain)>();
        for (var i = 0; i < 5; i++)
        {
            var visitor = await Scenario.NewVisitorAsync(Client, tenant);
            var conversation = await Scenario.StartConversationAsync(Client, visitor);
            (await agent.Grain.Join(conversation.Id)).Ok();
            conversations.Add(conversation);
        }

        Assert.Equal(conversations.Select(c => c.Id).Order(StringComparer.Ordinal), await agent.Grain.GetActiveConversations());

        // Four are resolved (the sink hears of it as after the commit); one stays open.
        var open = conversations[^1];
        var resolved = conversations[..^1];
        foreach (var (id, grain) in resolved)
        {
            var summary = (await grain.ChangeStatus(agent.Caller, ConversationStatus.Resolved, null)).Ok();
            Committed(tenant, id, 7, new ConversationStatusChanged(ConversationStatus.Open, ConversationStatus.Resolved, summary));
        }

        await Scenario.EventuallyAsync(agent.Grain.GetActiveConversations, a => a.SequenceEqual([open.Id]), "only the open conversation in the roster");

        // Everything idle is deactivated (the agent too: it comes back with its stored roster, as after a night off).
        var management = Client.GetGrain<IManagementGrain>(0);
        await management.ForceActivationCollection(TimeSpan.Zero);
        await Scenario.EventuallyAsync(() => ActiveKeysAsync(management), keys => !conversations.Any(c => keys.Contains(Tenancy.Key(tenant, c.Id))), "the conversations deactivated");

        // The agent's console connects again.
        var before = resolved.Select(c => Calls(tenant, c.Id)).ToArray();
        await agent.Grain.Connect("gw-after-reconnect", Scenario.NewId("conn"));

        var active = await ActiveKeysAsync(management);
        Assert.DoesNotContain(active, key => resolved.Any(c => Tenancy.Key(tenant, c.Id) == key));
        Assert.Equal(before, resolved.Select(c => Calls(tenant, c.Id)).ToArray());
        Assert.Contains(Tenancy.Key(tenant, open.Id), active); // the open one heard of the new gateway
        Assert.True(Calls(tenant, open.Id, nameof(IConversationGrain.UpdatePresence)) > 0);
    }

    private static async Task<HashSet<string>> ActiveKeysAsync(IManagementGrain management) =>
        [.. (await management.GetDetailedGrainStatistics()).Select(g => g.GrainId.Key.ToString()!)];

    [Fact]
    public async Task Reopening_brings_a_conversation_back_and_a_transfer_lets_go()
    {
        var tenant = Scenario.NewTenant();
        var agent = await Scenario.NewOnlineAgentAsync(Client, tenant);
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var (id, grain) = await Scenario.StartConversationAsync(Client, visitor);
        (await agent.Grain.Join(id)).Ok();
        var summary = (await grain.ChangeStatus(agent.Caller, ConversationStatus.Resolved, null)).Ok();
        Committed(tenant, id, 4, new ConversationStatusChanged(ConversationStatus.Open, ConversationStatus.Resolved, summary));
        await Scenario.EventuallyAsync(agent.Grain.GetActiveConversations, a => a.Length == 0, "resolved: out of the roster");

        // Joining a resolved conversation again (a console opening it) does not bring it back.
        (await agent.Grain.Join(id)).Ok();
        Assert.Empty(await agent.Grain.GetActiveConversations());

        // A late copy of an older change is ignored; the reopening brings it back.
        Committed(tenant, id, 6, new ConversationStatusChanged(ConversationStatus.Resolved, ConversationStatus.Open, summary with { Status = ConversationStatus.Open }));
        await Scenario.EventuallyAsync(agent.Grain.GetActiveConversations, a => a.SequenceEqual([id]), "reopened: back in the roster");
        await agent.Grain.ConversationInactive(id, 5);
        Assert.Equal([id], await agent.Grain.GetActiveConversations());

        // Handed on to a team by the agent: let go.
        Committed(tenant, id, 9, new ConversationTransferred(agent.Id, null, "billing", summary with { Status = ConversationStatus.Queued, AgentIds = [] }), new Causation(Causation.Agent, agent.Id));
        await Scenario.EventuallyAsync(agent.Grain.GetActiveConversations, a => a.Length == 0, "let go: out of the roster");
    }

    [Fact]
    public async Task An_agent_state_from_before_the_roster_is_cleaned_up_once_on_the_next_presence_change()
    {
        var tenant = Scenario.NewTenant();
        var agent = await Scenario.NewAgentAsync(Client, tenant);
        var conversations = new List<(string Id, IConversationGrain Grain)>();
        for (var i = 0; i < 3; i++)
        {
            var visitor = await Scenario.NewVisitorAsync(Client, tenant);
            var conversation = await Scenario.StartConversationAsync(Client, visitor);
            (await agent.Grain.Join(conversation.Id)).Ok();
            conversations.Add(conversation);
        }

        // Two are resolved (the roster hears of it), then the stored state is made to look like one written before
        // the roster existed: every conversation ever joined, not tracked.
        foreach (var (_, grain) in conversations[..2])
        {
            (await grain.ChangeStatus(agent.Caller, ConversationStatus.Resolved, null)).Ok();
        }

        await Scenario.EventuallyAsync(agent.Grain.GetActiveConversations, a => a.Length == 1, "the roster hears both resolutions");
        await Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        var storage = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>(KefuStorage.Name);
        var stored = new GrainState<AgentState>(new AgentState());
        await storage.ReadStateAsync("agent", agent.Grain.GetGrainId(), stored);
        Assert.NotNull(stored.State);
        stored.State.ConversationIds = [.. conversations.Select(c => c.Id)];
        stored.State.RosterTracked = false;
        await storage.WriteStateAsync("agent", agent.Grain.GetGrainId(), stored);

        await agent.Grain.Connect("gw-next-morning", Scenario.NewId("conn"));
        Assert.Equal([conversations[2].Id], await agent.Grain.GetActiveConversations());
        await storage.ReadStateAsync("agent", agent.Grain.GetGrainId(), stored);
        Assert.True(stored.State.RosterTracked);
        Assert.Equal([conversations[2].Id], stored.State.ConversationIds);
    }

    private int Calls(string tenant, string conversationId, string? method = null) => SiloCallProbe.Instance.CallsTo(Tenancy.Key(tenant, conversationId), method);

    private void Committed(string tenant, string conversationId, long seq, EventData data, Causation? causation = null)
    {
        var summary = data switch
        {
            ConversationStatusChanged s => s.Conversation,
            ConversationTransferred t => t.Conversation,
            _ => throw new ArgumentException("not a conversation event", nameof(data)),
        };
        var change = new CommittedChange(
            tenant, conversationId, [new DomainEvent(Ulid.NewUlid(), tenant, conversationId, seq, DateTimeOffset.UtcNow, causation ?? Causation.Of("test"), data)],
            summary, new AudienceSnapshot(ParticipantKeys.Key(tenant, ParticipantRole.Visitor, summary.VisitorId), new Dictionary<string, string[]>()));
        foreach (var sink in fixture.Sinks.OfType<AgentRosterSink>())
        {
            sink.OnCommitted(change);
        }
    }
}
