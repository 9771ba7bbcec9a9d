using Kefu.Contracts.Messages;

namespace Kefu.Contracts.Grains;

/// <summary>What a synced record is in Kefu: a contact (upserted as a CRM contact) or a conversation (as an activity).</summary>
public static class CrmRecordKinds
{
    public const string Contact = "contact";
    public const string Conversation = "conversation";
}

/// <summary>Where a synced record stands (docs/crm.md "States").</summary>
public static class CrmSyncStates
{
    /// <summary>Local changes not yet confirmed by the CRM; an attempt is due or running.</summary>
    public const string Pending = "pending";

    /// <summary>The CRM holds exactly the local fields (hashes equal after a read-back).</summary>
    public const string InSync = "in_sync";

    /// <summary>The CRM refused the record for good (a 4xx other than 408/429): parked until someone retries it.</summary>
    public const string Failed = "failed";

    /// <summary>The record changed on both sides and a <c>manual</c> field policy asks a person to decide.</summary>
    public const string Conflict = "conflict";

    /// <summary>Retried for too long or too often: given up, with a crm.sync_failed event; retried only on request.</summary>
    public const string Dead = "dead";

    public static readonly string[] All = [Pending, InSync, Failed, Conflict, Dead];
}

/// <summary>One field that differs between Kefu and the CRM under a <c>manual</c> policy: both values, for a person to pick.</summary>
[GenerateSerializer, Immutable]
public sealed record CrmFieldConflict(
    [property: Id(0)] string Field,
    [property: Id(1)] string? Local,
    [property: Id(2)] string? Crm);

/// <summary>
/// A synced record as the API and the console show it. Versions are the local record's (its update time in ticks):
/// <see cref="DesiredVersion"/> is the newest local change seen, <see cref="ConfirmedVersion"/> the one the CRM was last
/// verified to hold.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record CrmSyncView(
    [property: Id(0)] string Crm,
    [property: Id(1)] string Kind,
    [property: Id(2)] string RecordId,
    [property: Id(3)] string State,
    [property: Id(4)] long DesiredVersion,
    [property: Id(5)] long ConfirmedVersion,
    [property: Id(6)] int Attempts,
    [property: Id(7)] DateTimeOffset? LastAttemptAt,
    [property: Id(8)] DateTimeOffset? NextAttemptAt,
    [property: Id(9)] DateTimeOffset? InSyncAt,
    [property: Id(10)] string? LastError,
    [property: Id(11)] int? LastHttpStatus,
    [property: Id(12)] CrmFieldConflict[] Conflicts,
    [property: Id(13)] DateTimeOffset? FailingSince);

/// <summary>
/// One record in one CRM. Key: <c>Tenancy.Key(tenant, "{crm}/{kind}/{recordId}")</c> (<see cref="CrmSyncKeys"/>). The grain
/// is the record's only writer to the CRM: one attempt at a time, always with the newest local snapshot (read when the
/// attempt starts), so edits coalesce and an older write never follows a newer one.
/// </summary>
public interface ICrmSyncGrain : IGrainWithStringKey
{
    /// <summary>
    /// The local record changed (or may have): remembered durably (a reminder is the backstop), then an attempt runs soon.
    /// Returns at once; never waits for the CRM.
    /// </summary>
    Task Touch(long version);

    /// <summary>Null for a record never touched.</summary>
    Task<CrmSyncView?> Get();

    /// <summary>A failed, dead or pending record is attempted again now (attempt count and age start over).</summary>
    Task<CrmSyncView?> Retry();

    /// <summary>A conflict is settled: each named field takes Kefu's value (<c>kefu</c>) or the CRM's (<c>crm</c>).</summary>
    Task<Outcome<CrmSyncView>> Resolve(Dictionary<string, string> choices);
}

/// <summary>
/// The records of one tenant that are not in sync, for <c>GET /api/v1/crm/sync</c>: the sync grains report each change of
/// state here. Key: tenant.
/// </summary>
public interface ICrmSyncIndexGrain : IGrainWithStringKey
{
    /// <summary>A record's state changed (in_sync removes it from the index).</summary>
    [OneWay]
    Task Report(CrmSyncView view);

    /// <summary>Records in <paramref name="state"/> (or every state but in_sync when null), newest change first.</summary>
    Task<CrmSyncView[]> List(string? state, int limit);

    /// <summary>The names of the tenant's CRMs that sync records of <paramref name="kind"/> (from the silos' configuration).</summary>
    Task<string[]> Crms(string kind);
}

public static class CrmSyncKeys
{
    public static string Of(string tenant, string crm, string kind, string recordId) =>
        Identity.Tenancy.Key(tenant, $"{crm}/{kind}/{recordId}");

    /// <summary>(tenant, crm, kind, record id) of a grain key made by <see cref="Of"/>.</summary>
    public static (string Tenant, string Crm, string Kind, string RecordId) Split(string key)
    {
        var (tenant, rest) = Identity.Tenancy.Split(key);
        var parts = rest.Split('/', 3);
        return parts.Length == 3 ? (tenant, parts[0], parts[1], parts[2]) : throw new ArgumentException($"Not a CRM sync key: {key}", nameof(key));
    }
}
