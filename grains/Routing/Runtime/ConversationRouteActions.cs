using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Contracts.Plugins;
using Kefu.Grains.Events;

namespace Kefu.Grains.Routing.Runtime;

/// <summary>
/// A route's actions through the same grain commands as everyone else, as <see cref="Caller.ForRule"/>: what they cause
/// carries the rule's causation (trigger depth + 1), which is what stops chains of rules (the loop guard). Replies use a
/// deterministic client message id, so a route run again after a lost silo does not post twice. The route's token goes
/// into every grain call: a command that has not started by the deadline is not carried out, and the wait ends then.
/// </summary>
public sealed class ConversationRouteActions(IGrainFactory grains, IEventLog eventLog, string tenant, Caller caller, TimeProvider time) : IRouteActions
{
    public async Task<KefuError?> ReplyAsync(string conversationId, string clientMsgId, string text, CancellationToken token)
    {
        var sent = await Conversation(conversationId).Send(new SendMessage(caller, clientMsgId, text, ConnectionId: null), token).WaitAsync(token);
        return sent.Error;
    }

    public async Task<KefuError?> AssignAsync(string conversationId, string? team, string? agent, CancellationToken token) =>
        (await Conversation(conversationId).Transfer(caller, agent, agent is null ? team : null, token).WaitAsync(token)).Error;

    public async Task<KefuError?> TagAsync(string conversationId, IReadOnlyList<string> tags, CancellationToken token)
    {
        // Adds to the tags there (Label replaces them).
        var conversation = Conversation(conversationId);
        var summary = await conversation.GetSummary().WaitAsync(token);
        if (summary is null)
        {
            return KefuError.NotFound("Conversation");
        }

        string[] merged = [.. (summary.Tags ?? []).Concat(tags).Distinct(StringComparer.Ordinal)];
        return (await conversation.Label(caller, merged, priority: null, token).WaitAsync(token)).Error;
    }

    public async Task<KefuError?> PriorityAsync(string conversationId, string priority, CancellationToken token) =>
        (await Conversation(conversationId).Label(caller, tags: null, priority, token).WaitAsync(token)).Error;

    public async Task<KefuError?> StatusAsync(string conversationId, string status, CancellationToken token) =>
        (await Conversation(conversationId).ChangeStatus(caller, status, snoozedUntil: null, token).WaitAsync(token)).Error;

    public async Task<KefuError?> EmitAsync(Ulid eventId, string type, string dataJson, string? conversationId, CancellationToken token)
    {
        if (!EventTypes.IsCustom(type))
        {
            return KefuError.Invalid($"{type} is not a custom.* event type.");
        }

        // Tenant-level (seq 0); the id is the same on a re-run, and the log stores an id once.
        var e = new DomainEvent(eventId, tenant, ConversationId: null, Seq: 0, time.GetUtcNow(), Causation.Of(caller), new CustomEvent(type, dataJson, conversationId));
        await eventLog.AppendAsync([e], token);
        return null;
    }

    public Task<PluginCallResult> CallPluginAsync(string plugin, string inputJson, DateTimeOffset deadline, CancellationToken token) =>
        grains.GetGrain<IPluginGrain>($"{tenant}/{plugin}").Call(new PluginCall(PluginHooks.Route, inputJson, deadline), token);

    public async Task<KefuError?> SetAttributeAsync(string? contactId, string? conversationId, string key, string value, CancellationToken token)
    {
        if (contactId is null && conversationId is not null && await Conversation(conversationId).GetSummary().WaitAsync(token) is { } summary)
        {
            contactId = (await grains.GetGrain<IVisitorGrain>(Tenancy.Key(tenant, summary.VisitorId)).GetProfile().WaitAsync(token))?.ContactId;
        }

        if (contactId is null)
        {
            return null; // an anonymous visitor: there is no contact to set it on
        }

        var patch = new ContactPatch(Attributes: new Dictionary<string, string?>(StringComparer.Ordinal) { [key] = value });
        return (await grains.GetGrain<IContactGrain>(Tenancy.Key(tenant, contactId)).Update(patch, Causation.Of(caller)).WaitAsync(token)).Error;
    }

    public async Task<KefuError?> EmitPluginAsync(Ulid eventId, string plugin, string name, string dataJson, string? conversationId, CancellationToken token)
    {
        // Tenant-level (seq 0), like custom.* events; the id is the same on a re-run, and the log stores an id once.
        var e = new DomainEvent(eventId, tenant, ConversationId: null, Seq: 0, time.GetUtcNow(), Causation.Of(caller), new PluginEmitted(plugin, name, dataJson, conversationId));
        await eventLog.AppendAsync([e], token);
        return null;
    }

    private IConversationGrain Conversation(string conversationId) => grains.GetGrain<IConversationGrain>(Tenancy.Key(tenant, conversationId));
}
