using Kefu.Contracts.Events;
using Kefu.Contracts.Identity;
using Kefu.Grains.Events;
using Kefu.Grains.Hosting;
using Microsoft.Extensions.Logging;

namespace Kefu.Grains.DataProtection;

[GenerateSerializer]
public sealed class ContactErasureState
{
    [Id(0)] public DateTimeOffset? RequestedAt { get; set; }

    [Id(1)] public Causation? RequestedBy { get; set; }

    /// <summary>Whom to erase, recorded before anything is erased (the contact that names them is erased too).</summary>
    [Id(2)] public List<string> VisitorIds { get; set; } = [];

    [Id(3)] public List<string> ConversationIds { get; set; } = [];

    /// <summary>Holders that succeeded, with the records each changed: a retry skips them.</summary>
    [Id(4)] public Dictionary<string, long> Done { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The contact.erased event, made once so a retried relay stores it once (the log skips a known id).</summary>
    [Id(5)] public DomainEvent? AuditEvent { get; set; }

    [Id(6)] public DateTimeOffset? CompletedAt { get; set; }

    [Id(7)] public int Attempts { get; set; }
}

/// <summary>
/// One contact's erasure (docs/data-protection.md). Invariant: once started, it ends with every registered holder done
/// and one contact.erased event. Each pass runs every holder not yet done (one failing does not stop the others; the
/// contact's own record goes last), records each success, and a reminder runs another pass until none is left.
/// </summary>
public sealed partial class ContactErasureGrain(
    [PersistentState("contactErasure", KefuStorage.Name)] IPersistentState<ContactErasureState> state,
    IEnumerable<IPersonalDataHolder> holders,
    IEventLog eventLog,
    TimeProvider time,
    ILogger<ContactErasureGrain> logger) : Grain, IContactErasureGrain, IRemindable
{
    private const string RetryReminder = "erase";
    private static readonly TimeSpan RetryPeriod = TimeSpan.FromMinutes(1);

    /// <summary>The contact's own record last: while it exists the erasure can still be found from it.</summary>
    private readonly IPersonalDataHolder[] _holders = [.. holders.OrderBy(h => h.Name == ContactHolder.HolderName ? 1 : 0)];

    private (string Tenant, string ContactId) Key => Tenancy.Split(this.GetPrimaryKeyString());

    public async Task<ErasureStatus?> Erase(Causation causation, TimeSpan wait)
    {
        var s = state.State;
        if (s.CompletedAt is not null)
        {
            return Status();
        }

        if (s.RequestedAt is null)
        {
            if (await ContactScope.ForAsync(GrainFactory, Key.Tenant, Key.ContactId) is not { } scope)
            {
                DeactivateOnIdle();
                return null;
            }

            s.RequestedAt = time.GetUtcNow();
            s.RequestedBy = causation;
            s.VisitorIds = [.. scope.VisitorIds];
            s.ConversationIds = [.. scope.ConversationIds];
            await state.WriteStateAsync();
            await this.RegisterOrUpdateReminder(RetryReminder, RetryPeriod, RetryPeriod);
        }

        using var budget = new CancellationTokenSource(wait);
        await PassAsync(budget.Token);
        return Status();
    }

    public Task<ErasureStatus?> GetStatus() => Task.FromResult(state.State.RequestedAt is null ? null : Status());

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (state.State.RequestedAt is not null && state.State.CompletedAt is null)
        {
            await PassAsync(CancellationToken.None);
        }
        else if (state.State.CompletedAt is not null || state.State.RequestedAt is null)
        {
            await DropReminderAsync();
        }
    }

    /// <summary>Runs the holders not yet done, then (when none is left) writes the audit event and completes.</summary>
    private async Task PassAsync(CancellationToken cancellationToken)
    {
        var s = state.State;
        s.Attempts++;
        var scope = new PersonalDataScope(Key.Tenant, Key.ContactId, s.VisitorIds, s.ConversationIds);
        foreach (var holder in _holders)
        {
            if (s.Done.ContainsKey(holder.Name))
            {
                continue;
            }

            try
            {
                var changed = await holder.EraseAsync(scope, cancellationToken);
                s.Done[holder.Name] = changed;
                await state.WriteStateAsync();
            }
            catch (Exception ex)
            {
                // Holders are idempotent: the next pass (the reminder, or the caller asking again) runs this one again.
                LogHolderFailed(logger, ex, holder.Name, Key.ContactId);
            }
        }

        if (_holders.Any(h => !s.Done.ContainsKey(h.Name)))
        {
            await state.WriteStateAsync(); // the attempt count
            return;
        }

        s.AuditEvent ??= GrainEvents.Create(Key.Tenant,
            new ContactErased(Key.ContactId, s.RequestedAt!.Value, new Dictionary<string, long>(s.Done, StringComparer.Ordinal)),
            s.RequestedBy ?? Causation.Of("erasure"), time.GetUtcNow());
        await state.WriteStateAsync();
        await eventLog.AppendAsync([s.AuditEvent], CancellationToken.None);
        s.CompletedAt = time.GetUtcNow();
        await state.WriteStateAsync();
        LogErased(logger, Key.ContactId, Key.Tenant);
        await DropReminderAsync();
    }

    private async Task DropReminderAsync()
    {
        if (await this.GetReminder(RetryReminder) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    private ErasureStatus Status()
    {
        var s = state.State;
        return new ErasureStatus(Key.ContactId, s.CompletedAt is not null, s.RequestedAt ?? default, s.CompletedAt,
            new Dictionary<string, long>(s.Done, StringComparer.Ordinal),
            [.. _holders.Select(h => h.Name).Where(n => !s.Done.ContainsKey(n))], s.Attempts);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Erasing contact {ContactId}: holder {Holder} failed; it is retried")]
    private static partial void LogHolderFailed(ILogger logger, Exception exception, string holder, string contactId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Erased the personal data of contact {ContactId} of tenant {Tenant}")]
    private static partial void LogErased(ILogger logger, string contactId, string tenant);
}
