using Kefu.Contracts.Messages;

namespace Kefu.Grains.Retention;

/// <summary>A tenant's retention policy (key: tenant), durable in grain state; the source of truth of <c>/api/v1/retention</c>.</summary>
public interface IRetentionPolicyGrain : IGrainWithStringKey
{
    [AlwaysInterleave]
    Task<RetentionPolicyView> Get();

    /// <summary>Validates and stores the policy, then tells the retention job; an invalid policy is refused with <c>invalid_field</c>.</summary>
    Task<Outcome<RetentionPolicyView>> Set(RetentionPolicy policy, string updatedBy);
}

/// <summary>
/// The tenants that have a policy of their own (key 0), durable: what the retention job walks. A separate grain from the
/// job, so storing a policy never waits behind a long run.
/// </summary>
public interface IRetentionRegistryGrain : IGrainWithIntegerKey
{
    /// <summary>A tenant's policy changed (a default policy removes the tenant from the list).</summary>
    Task PolicyChanged(string tenant, RetentionPolicy policy);

    [AlwaysInterleave]
    Task<IReadOnlyDictionary<string, RetentionPolicy>> List();
}

/// <summary>
/// The cluster's one retention job (key 0). Its reminder is the one gateways register through
/// <c>IAttachmentRetentionGrain.Start</c> (same grain class, same key, same reminder name as before the job grew past
/// attachments, so reminders stored by an older version keep firing).
/// </summary>
public interface IRetentionJobGrain : IGrainWithIntegerKey
{
    /// <summary>Runs the job now (what a reminder tick does); returns rows deleted per holder.</summary>
    Task<RetentionRunReport> RunNow();
}

[GenerateSerializer, Immutable]
public sealed record RetentionRunReport(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] IReadOnlyDictionary<string, long> Deleted,
    [property: Id(2)] int Tenants);
