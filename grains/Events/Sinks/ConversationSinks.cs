using Kefu.Contracts.Messages;
using Microsoft.Extensions.Logging;

namespace Kefu.Grains.Events.Sinks;

/// <summary>
/// The one thing a conversation grain hands its committed changes to: every registered
/// <see cref="IConversationEventSink"/> (push, directory, tenant console, agents' rosters, …) in registration order,
/// each isolated from the others' failures. Nothing here awaits; sinks queue their work. Ephemeral signals that are
/// not domain events (typing, read, queue position) go to the push sink only.
/// </summary>
public sealed partial class ConversationSinks(
    IEnumerable<IConversationEventSink> sinks,
    PushSink push,
    TenantConsoleSink tenantConsole,
    ILogger<ConversationSinks> logger)
{
    private readonly IConversationEventSink[] _sinks = [.. sinks];

    /// <summary>
    /// After a commit. A change without events means the summary moved without a domain event (a read mark, a queue
    /// position): sinks that keep the summary (the directory) take it, the others ignore it.
    /// </summary>
    public void Committed(CommittedChange change)
    {
        foreach (var sink in _sinks)
        {
            try
            {
                sink.OnCommitted(change);
            }
            catch (Exception ex)
            {
                // A sink must not throw; if one does, the others still run and the commit stands.
                LogSinkFailed(logger, ex, sink.GetType().Name, change.ConversationId);
            }
        }
    }

    /// <summary>Typing, a read mark, a queue position: pushed to the conversation's connections, nothing else.</summary>
    public void Signal(AudienceSnapshot audience, ChatEvent signal, SignalAudience to, string? exceptParticipant = null)
    {
        try
        {
            push.Signal(audience, signal, to, exceptParticipant);
        }
        catch (Exception ex)
        {
            LogSinkFailed(logger, ex, nameof(PushSink), signal.ConversationId);
        }
    }

    /// <summary>
    /// The summary changed in a way consoles show live but no event records (the queue position): its participants
    /// and the tenant's consoles get it, and the directory row follows (coalesced).
    /// </summary>
    public void Announce(CommittedChange change)
    {
        try
        {
            push.Summary(change.Audience, change.Summary);
            tenantConsole.Announce(change.Summary);
        }
        catch (Exception ex)
        {
            LogSinkFailed(logger, ex, nameof(PushSink), change.ConversationId);
        }

        Committed(change with { Events = [] });
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Sink {Sink} failed on a change of conversation {ConversationId}")]
    private static partial void LogSinkFailed(ILogger logger, Exception exception, string sink, string conversationId);
}
