using Kefu.Contracts.Messages;
using Kefu.Grains.Attachments;
using Kefu.Grains.Events;
using Kefu.Grains.Hosting;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Retention;

[GenerateSerializer]
public sealed class RetentionPolicyState
{
    [Id(0)] public RetentionPolicy Policy { get; set; } = RetentionPolicy.Default;

    [Id(1)] public DateTimeOffset? UpdatedAt { get; set; }

    [Id(2)] public string? UpdatedBy { get; set; }
}

/// <summary>
/// A tenant's retention policy (key: tenant). Set = validate → store → tell the registry; a failed tell fails the call,
/// and a retried PUT stores the same policy again and tells again (idempotent), so the registry cannot stay behind.
/// </summary>
public sealed class RetentionPolicyGrain(
    [PersistentState("retentionPolicy", KefuStorage.Name)] IPersistentState<RetentionPolicyState> state,
    IOptions<AttachmentOptions> attachments,
    IOptions<EventLogOptions> events,
    TimeProvider time) : Grain, IRetentionPolicyGrain
{
    private RetentionDefaults Defaults => RetentionDefaults.From(attachments.Value, events.Value);

    public Task<RetentionPolicyView> Get() =>
        Task.FromResult(RetentionRules.View(state.State.Policy, Defaults, state.State.UpdatedAt, state.State.UpdatedBy));

    public async Task<Outcome<RetentionPolicyView>> Set(RetentionPolicy policy, string updatedBy)
    {
        if (RetentionRules.Validate(policy, Defaults) is { } error)
        {
            return error;
        }

        state.State.Policy = policy;
        state.State.UpdatedAt = time.GetUtcNow();
        state.State.UpdatedBy = updatedBy;
        await state.WriteStateAsync();
        await GrainFactory.GetGrain<IRetentionRegistryGrain>(0).PolicyChanged(this.GetPrimaryKeyString(), policy);
        return RetentionRules.View(policy, Defaults, state.State.UpdatedAt, updatedBy);
    }
}

[GenerateSerializer]
public sealed class RetentionRegistryState
{
    [Id(0)] public Dictionary<string, RetentionPolicy> Policies { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>The tenants with a policy of their own, for the job (see <see cref="IRetentionRegistryGrain"/>).</summary>
public sealed class RetentionRegistryGrain(
    [PersistentState("retentionRegistry", KefuStorage.Name)] IPersistentState<RetentionRegistryState> state) : Grain, IRetentionRegistryGrain
{
    public async Task PolicyChanged(string tenant, RetentionPolicy policy)
    {
        var changed = policy.IsDefault
            ? state.State.Policies.Remove(tenant)
            : !state.State.Policies.TryGetValue(tenant, out var current) || current != policy;
        if (!policy.IsDefault)
        {
            state.State.Policies[tenant] = policy;
        }

        if (changed)
        {
            await state.WriteStateAsync();
        }
    }

    public Task<IReadOnlyDictionary<string, RetentionPolicy>> List() =>
        Task.FromResult<IReadOnlyDictionary<string, RetentionPolicy>>(new Dictionary<string, RetentionPolicy>(state.State.Policies, StringComparer.Ordinal));
}
