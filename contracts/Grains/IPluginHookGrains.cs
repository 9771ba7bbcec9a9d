namespace Kefu.Contracts.Grains;

// The message hooks of plugins (issue #19, docs/plugins.md "Where plugins run"): before a visitor's message is stored
// (may change or refuse it) and after (from the event log: may tag, reply, set attributes, emit). Neither runs inside a
// conversation's turn.

/// <summary>
/// Runs a tenant's enabled <c>before_message</c> plugins, in name order, on a visitor's message before the gateway sends
/// it to the conversation. A stateless worker per tenant (key: the tenant): cheap when the tenant has none.
/// </summary>
public interface IBeforeMessageHookGrain : IGrainWithStringKey
{
    Task<BeforeMessageOutcome> Run(BeforeMessageInput input);
}

/// <summary>A visitor's message as the hook sees it; <see cref="Inbox"/> may be null (the hook looks it up only when a plugin runs).</summary>
[GenerateSerializer, Immutable]
public sealed record BeforeMessageInput(
    [property: Id(0)] string ConversationId,
    [property: Id(1)] string? Inbox,
    [property: Id(2)] string Text,
    [property: Id(3)] string VisitorId);

/// <summary>The text to store (changed or not), or the refusal: the plugin that refused and the reason the visitor sees.</summary>
[GenerateSerializer, Immutable]
public sealed record BeforeMessageOutcome(
    [property: Id(0)] string Text,
    [property: Id(1)] string? RefusedBy = null,
    [property: Id(2)] string? Reason = null)
{
    public bool Refused => RefusedBy is not null;
}

/// <summary>
/// Runs a tenant's enabled <c>after_message</c> plugins for each visitor <c>message.created</c> event, read from the
/// tenant's event log after a durable cursor. Started by the plugin registry when the tenant has such plugins. Key: the tenant.
/// </summary>
public interface IAfterMessageHookGrain : IGrainWithStringKey
{
    /// <summary>Starts (or keeps) reading; messages from before the first start are history, not news.</summary>
    Task Start();

    /// <summary>Events were committed: read now.</summary>
    [OneWay]
    Task Poke();

    /// <summary>Reads again from <paramref name="cursor"/> (an operator's replay: every effect is idempotent, nothing happens twice).</summary>
    Task Rewind(long cursor);

    [AlwaysInterleave]
    Task<AfterMessageHookStatus> GetStatus();
}

[GenerateSerializer, Immutable]
public sealed record AfterMessageHookStatus(
    [property: Id(0)] long Cursor,
    [property: Id(1)] DateTimeOffset? StartedAt,
    [property: Id(2)] long Handled,
    [property: Id(3)] long Failed);
