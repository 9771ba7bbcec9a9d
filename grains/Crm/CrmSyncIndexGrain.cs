using Kefu.Contracts.Grains;
using Kefu.Grains.Hosting;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Crm;

[GenerateSerializer]
public sealed class CrmSyncIndexState
{
    /// <summary>Records needing a person (failed, conflict, dead) by "{crm}/{kind}/{id}": kept across restarts.</summary>
    [Id(0)] public Dictionary<string, CrmSyncView> Attention { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>The index's side of a contact's erasure: internal to the silo (the data-protection holder).</summary>
public interface ICrmSyncIndexErasure : IGrainWithStringKey
{
    /// <summary>
    /// Removes the listed views of a record in every CRM (their errors and conflicts hold the record's values) and
    /// returns the names of the CRMs they were listed for (a CRM since removed from the configuration included).
    /// </summary>
    Task<string[]> Forget(string kind, string recordId);
}

/// <summary>
/// A tenant's records that are not in sync, for <c>GET /api/v1/crm/sync</c> and the console. Records that need a person
/// (failed, conflict, dead) are stored; pending ones only in memory (they are on their way, and a restart loses nothing
/// but the listing: each record's own grain holds its state).
/// </summary>
public sealed class CrmSyncIndexGrain(
    [PersistentState("crmSyncIndex", KefuStorage.Name)] IPersistentState<CrmSyncIndexState> state,
    IOptionsMonitor<CrmOptions> options) : Grain, ICrmSyncIndexGrain, ICrmSyncIndexErasure
{
    /// <summary>At most this many pending records are listed (a backlog of thousands is summed up by its size).</summary>
    private const int MaxPending = 10_000;

    private readonly Dictionary<string, CrmSyncView> _pending = new(StringComparer.Ordinal);

    public async Task Report(CrmSyncView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        var key = $"{view.Crm}/{view.Kind}/{view.RecordId}";
        var needsPerson = view.State is CrmSyncStates.Failed or CrmSyncStates.Conflict or CrmSyncStates.Dead;
        if (view.State == CrmSyncStates.Pending && (_pending.Count < MaxPending || _pending.ContainsKey(key)))
        {
            _pending[key] = view;
        }
        else
        {
            _pending.Remove(key);
        }

        var stored = state.State.Attention;
        if (needsPerson)
        {
            stored[key] = view;
            await state.WriteStateAsync();
        }
        else if (stored.Remove(key))
        {
            await state.WriteStateAsync();
        }
    }

    public async Task<string[]> Forget(string kind, string recordId)
    {
        bool Of(CrmSyncView v) => v.Kind == kind && v.RecordId == recordId;
        var crms = state.State.Attention.Values.Concat(_pending.Values).Where(Of).Select(v => v.Crm).Distinct(StringComparer.Ordinal).ToArray();
        foreach (var key in _pending.Where(p => Of(p.Value)).Select(p => p.Key).ToList())
        {
            _pending.Remove(key);
        }

        var stored = state.State.Attention.Where(p => Of(p.Value)).Select(p => p.Key).ToList();
        if (stored.Count > 0)
        {
            stored.ForEach(key => state.State.Attention.Remove(key));
            await state.WriteStateAsync();
        }

        return crms;
    }

    public Task<CrmSyncView[]> List(string? syncState, int limit)
    {
        var all = state.State.Attention.Values.Concat(_pending.Values);
        var chosen = syncState is null ? all : all.Where(v => v.State == syncState);
        return Task.FromResult(chosen
            .OrderByDescending(v => v.LastAttemptAt ?? DateTimeOffset.MinValue)
            .Take(Math.Clamp(limit, 1, 500))
            .ToArray());
    }

    public Task<string[]> Crms(string kind) => Task.FromResult(options.CurrentValue.ForTenant(this.GetPrimaryKeyString())
        .Where(c => (kind == CrmRecordKinds.Contact ? c.Connector.Contacts : kind == CrmRecordKinds.Conversation ? c.Connector.Conversations : null) is not null)
        .Select(c => c.Name)
        .Order(StringComparer.Ordinal)
        .ToArray());
}
