namespace Kefu.Contracts.Messages;

/// <summary>Something a gateway must show to connections. Serialized once per gateway, then fanned out locally.</summary>
[GenerateSerializer, Immutable]
public abstract record ChatEvent([property: Id(0)] string ConversationId);

[GenerateSerializer, Immutable]
public sealed record MessageEvent([property: Id(0)] ChatMessage Message) : ChatEvent(Message.ConversationId);

[GenerateSerializer, Immutable]
public sealed record ConversationEvent([property: Id(0)] ConversationSummary Summary) : ChatEvent(Summary.ConversationId);

[GenerateSerializer, Immutable]
public sealed record TypingEvent(
    string ConversationId,
    [property: Id(0)] Sender Sender,
    [property: Id(1)] bool On) : ChatEvent(ConversationId);

[GenerateSerializer, Immutable]
public sealed record ReadEvent(
    string ConversationId,
    [property: Id(0)] Sender Reader,
    [property: Id(1)] long Seq) : ChatEvent(ConversationId);

/// <summary>
/// Not shown to anyone: tells a gateway to close the recipient's connections, whose tokens were just revoked
/// (logout, password or role change, deactivation).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record SessionEndedEvent() : ChatEvent(string.Empty);

/// <summary>
/// One event for the connections of <see cref="Recipients"/> (participant keys) on one gateway,
/// except <see cref="ExcludeConnectionId"/> (the sending connection, which gets the ack instead).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record PushEnvelope(
    [property: Id(0)] string[] Recipients,
    [property: Id(1)] string? ExcludeConnectionId,
    [property: Id(2)] ChatEvent Event);

/// <summary>Where a participant (visitor or agent) currently has connections. Newer versions win.</summary>
[GenerateSerializer, Immutable]
public sealed record ParticipantPresence(
    [property: Id(0)] string ParticipantKey,
    [property: Id(1)] long Version,
    [property: Id(2)] string[] Gateways)
{
    public bool IsOnline => Gateways.Length > 0;
}
