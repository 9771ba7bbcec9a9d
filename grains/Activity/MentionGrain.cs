using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Push;
using Microsoft.Extensions.Logging;

namespace Kefu.Grains.Activity;

/// <summary>
/// Tells the agents a note mentions (<see cref="MentionParser"/>) by a <c>mention</c> frame to each of their consoles,
/// on every gateway where they are connected. An agent with no console open is not told (nothing is kept for later).
/// </summary>
[StatelessWorker]
public sealed partial class MentionGrain(GatewayPusher pusher, ILogger<MentionGrain> logger) : Grain, IMentionGrain
{
    public async Task NoteCreated(InternalNote note)
    {
        ArgumentNullException.ThrowIfNull(note);
        var tenant = this.GetPrimaryKeyString();
        var agents = await GrainFactory.GetGrain<ITenantGrain>(tenant).ListAgents();
        var ids = agents.Where(a => !a.Deactivated).Select(a => a.AgentId).ToHashSet(StringComparer.Ordinal);
        var mentioned = MentionParser.Parse(note.Text, ids, note.Author.Role == ParticipantRole.Agent ? note.Author.Id : null);
        foreach (var agentId in mentioned)
        {
            var presence = await GrainFactory.GetGrain<IAgentGrain>(Tenancy.Key(tenant, agentId)).GetPresence();
            var envelope = new PushEnvelope([ParticipantKeys.Key(tenant, ParticipantRole.Agent, agentId)], null, new MentionEvent(note));
            foreach (var gateway in presence.Gateways)
            {
                pusher.Push(gateway, envelope);
            }

            LogMentioned(logger, agentId, note.ConversationId, presence.Gateways.Length);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Agent {AgentId} mentioned in a note of {ConversationId}: told on {Gateways} gateway(s)")]
    private static partial void LogMentioned(ILogger logger, string agentId, string conversationId, int gateways);
}
