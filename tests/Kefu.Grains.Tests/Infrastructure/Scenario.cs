using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;

namespace Kefu.Grains.Tests.Infrastructure;

public sealed record TestVisitor(string Tenant, string Id, Caller Caller, IVisitorGrain Grain)
{
    public string ParticipantKey => Caller.ParticipantKey;
}

public sealed record TestAgent(string Tenant, string Id, Caller Caller, IAgentGrain Grain)
{
    public string ParticipantKey => Caller.ParticipantKey;
}

/// <summary>Builds participants and conversations with fresh ids, so tests never share grains.</summary>
public static class Scenario
{
    public static string NewTenant() => "t" + Guid.NewGuid().ToString("N")[..20];

    public static string NewId(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..16];

    public static async Task<TestVisitor> NewVisitorAsync(IGrainFactory grains, string tenant, string? name = "Visitor", string inbox = Tenancy.DefaultInbox)
    {
        var id = NewId("v");
        var grain = grains.GetGrain<IVisitorGrain>(Tenancy.Key(tenant, id));
        await grain.Register(new VisitorProfile(name, null, inbox, [], DateTimeOffset.UtcNow));
        return new TestVisitor(tenant, id, new Caller(tenant, ParticipantRole.Visitor, id, name, false), grain);
    }

    public static async Task<TestAgent> NewAgentAsync(IGrainFactory grains, string tenant, bool admin = false, int capacity = AgentProfile.DefaultCapacity)
    {
        var id = NewId(admin ? "admin" : "agent");
        var grain = grains.GetGrain<IAgentGrain>(Tenancy.Key(tenant, id));
        var profile = new AgentProfile(id, "Agent " + id, admin ? AgentRoles.Admin : AgentRoles.Agent, DateTimeOffset.UtcNow, capacity);
        var created = await grain.Create(profile, "not-a-real-hash");
        Assert.True(created.IsOk, created.Error?.Message);
        return new TestAgent(tenant, id, new Caller(tenant, ParticipantRole.Agent, id, profile.DisplayName, admin), grain);
    }

    /// <summary>
    /// An agent with a live connection (on <paramref name="gatewayId"/>; by default a gateway nobody listens on), so
    /// it is online and the tenant's inboxes are staffed: conversations are assigned and nobody gets the away message.
    /// </summary>
    public static async Task<TestAgent> NewOnlineAgentAsync(IGrainFactory grains, string tenant, bool admin = false, int capacity = AgentProfile.DefaultCapacity, string? gatewayId = null)
    {
        var agent = await NewAgentAsync(grains, tenant, admin, capacity);
        await agent.Grain.Connect(gatewayId ?? "gw-nobody-listens", NewId("conn"));
        return agent;
    }

    /// <summary>The visitor's conversation grain (created on first use).</summary>
    public static async Task<(string Id, IConversationGrain Grain)> StartConversationAsync(IGrainFactory grains, TestVisitor visitor)
    {
        var id = await visitor.Grain.GetOrStartConversation();
        return (id, grains.GetGrain<IConversationGrain>(Tenancy.Key(visitor.Tenant, id)));
    }

    public static Task<Outcome<SendAck>> SendAsync(this IConversationGrain conversation, Caller caller, string clientMsgId, string text, string? connectionId = null) =>
        conversation.Send(new SendMessage(caller, clientMsgId, text, connectionId));

    public static T Ok<T>(this Outcome<T> outcome)
    {
        Assert.True(outcome.IsOk, $"expected success, got {outcome.Error?.Code}: {outcome.Error?.Message}");
        return outcome.Value!;
    }

    public static void AssertError<T>(this Outcome<T> outcome, string code)
    {
        Assert.False(outcome.IsOk, $"expected error {code}, got success");
        Assert.Equal(code, outcome.Error!.Code);
    }

    /// <summary>Polls until <paramref name="condition"/> holds (for one-way updates), failing after the timeout.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> probe, Func<T, bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var value = await probe();
            if (condition(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting for {what}.");
            }

            await Task.Delay(20);
        }
    }
}
