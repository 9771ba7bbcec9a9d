using Kefu.Contracts.Messages;

namespace Kefu.Contracts.Identity;

/// <summary>
/// Who is asking: taken from a verified token by the gateway and checked again by the grains. A service API key
/// (INTEGRATION.md §1) is a caller with role <see cref="ParticipantRole.Bot"/>, <see cref="Id"/> = <see cref="KeyId"/> and
/// <see cref="Name"/> = the key's name (or the bot name a request gives): events it causes name the key.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record Caller(
    [property: Id(0)] string Tenant,
    [property: Id(1)] ParticipantRole Role,
    [property: Id(2)] string Id,
    [property: Id(3)] string? Name,
    [property: Id(4)] bool IsAdmin,
    [property: Id(5)] string? KeyId = null,
    [property: Id(6)] Events.Causation? Cause = null)
{
    /// <summary>
    /// A routing rule acting (as a bot named after its route) on behalf of the event it handles: what it causes carries
    /// <paramref name="cause"/> (rule kind, depth) instead of the caller's identity (issue #15).
    /// </summary>
    public static Caller ForRule(string tenant, Events.Causation cause, string? botName = null) =>
        new(tenant, ParticipantRole.Bot, "rule:" + cause.Id, botName ?? cause.Id, IsAdmin: false, KeyId: null, Cause: cause);

    /// <summary>A business system calling with a service API key (<see cref="KeyId"/>), not a person.</summary>
    public bool IsServiceKey => KeyId is not null;

    /// <summary>"{tenant}/{role}/{id}": how gateways index connections and grains address recipients.</summary>
    public string ParticipantKey => ParticipantKeys.Key(Tenant, Role, Id);

    public Sender AsSender() => new(Role, Id, Name);
}

public static class ParticipantKeys
{
    public static string Key(string tenant, ParticipantRole role, string id) =>
        string.Concat(tenant, role == ParticipantRole.Visitor ? "/visitor/" : role == ParticipantRole.Agent ? "/agent/" : "/other/", id);
}
