using Kefu.Contracts.Messages;

namespace Kefu.Contracts.Identity;

/// <summary>Who is asking: taken from a verified token by the gateway and checked again by the grains.</summary>
[GenerateSerializer, Immutable]
public sealed record Caller(
    [property: Id(0)] string Tenant,
    [property: Id(1)] ParticipantRole Role,
    [property: Id(2)] string Id,
    [property: Id(3)] string? Name,
    [property: Id(4)] bool IsAdmin)
{
    /// <summary>"{tenant}/{role}/{id}": how gateways index connections and grains address recipients.</summary>
    public string ParticipantKey => ParticipantKeys.Key(Tenant, Role, Id);

    public Sender AsSender() => new(Role, Id, Name);
}

public static class ParticipantKeys
{
    public static string Key(string tenant, ParticipantRole role, string id) =>
        string.Concat(tenant, role == ParticipantRole.Visitor ? "/visitor/" : role == ParticipantRole.Agent ? "/agent/" : "/other/", id);
}
