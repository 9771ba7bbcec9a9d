using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Microsoft.Extensions.Logging;

namespace Kefu.Grains.Dispatch;

/// <summary>
/// How the dispatcher tells conversations of its decisions. Fire-and-forget by contract: the dispatcher never awaits
/// another grain (deadlock rule), and a lost message is repaired by the re-sends (assignments) or the next change
/// (positions). A seam so tests can watch what the dispatcher says.
/// </summary>
public interface IDispatchNotifier
{
    void Assigned(string tenant, string conversationId, string agentId);

    void QueuePositionChanged(string tenant, string conversationId, int position);
}

/// <summary>Tells the conversation grains with one-way calls.</summary>
public sealed partial class GrainDispatchNotifier(IGrainFactory grains, ILogger<GrainDispatchNotifier> logger) : IDispatchNotifier
{
    public void Assigned(string tenant, string conversationId, string agentId)
    {
        try
        {
            Conversation(tenant, conversationId).Assigned(agentId).Ignore();
        }
        catch (Exception ex)
        {
            // Never let a failed send break the dispatcher's turn: the re-send timer tries again.
            LogSendFailed(logger, ex, tenant, conversationId);
        }
    }

    public void QueuePositionChanged(string tenant, string conversationId, int position)
    {
        try
        {
            Conversation(tenant, conversationId).QueuePositionChanged(position).Ignore();
        }
        catch (Exception ex)
        {
            LogSendFailed(logger, ex, tenant, conversationId);
        }
    }

    private IConversationGrain Conversation(string tenant, string conversationId) =>
        grains.GetGrain<IConversationGrain>(Tenancy.Key(tenant, conversationId));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dispatcher of {Tenant} could not send to conversation {ConversationId}")]
    private static partial void LogSendFailed(ILogger logger, Exception exception, string tenant, string conversationId);
}
