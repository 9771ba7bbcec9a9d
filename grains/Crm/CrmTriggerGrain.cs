using System.Globalization;
using System.Text.Json;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Grains.Events;
using Kefu.Grains.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Crm;

[GenerateSerializer]
public sealed class CrmTriggerState
{
    /// <summary>Every event up to here has been handed to its records' grains (durably: each wrote that it must sync).</summary>
    [Id(0)] public long Cursor { get; set; }

    /// <summary>The reconciliation sweep's place in the log, while one runs (null: none running).</summary>
    [Id(1)] public long? SweepCursor { get; set; }

    [Id(2)] public DateTimeOffset? LastSweepAt { get; set; }
}

/// <summary>What a tenant's trigger has done, for tests and diagnostics.</summary>
[GenerateSerializer, Immutable]
public sealed record CrmTriggerStatus([property: Id(0)] long Cursor, [property: Id(1)] long? SweepCursor, [property: Id(2)] DateTimeOffset? LastSweepAt);

/// <summary>A tenant's CRM trigger; key: the tenant.</summary>
public interface ICrmTriggerGrain : IGrainWithStringKey
{
    /// <summary>Starts (or keeps) the trigger: called at silo start for every tenant with a CRM.</summary>
    Task Start();

    Task<CrmTriggerStatus> GetStatus();

    /// <summary>Starts a reconciliation sweep now (the configured interval starts them otherwise).</summary>
    Task Reconcile();
}

/// <summary>
/// Reads a tenant's event log after a durable cursor — contact.created / contact.updated, a conversation resolved or rated —
/// and tells each configured CRM's record grain (<see cref="ICrmSyncGrain.Touch"/>, which answers at once). The cursor
/// moves only after the grains have stored that they must sync, so a silo lost in between hands the events over again
/// (a record told twice does nothing twice). The reconciliation sweep walks the retained log again from the start and asks
/// every record for a read-back (version 0), so edits made in the CRM and any trigger lost anyway are caught.
/// </summary>
public sealed partial class CrmTriggerGrain(
    [PersistentState("crmTrigger", KefuStorage.Name)] IPersistentState<CrmTriggerState> state,
    IEventLog eventLog,
    IOptionsMonitor<CrmOptions> options,
    TimeProvider time,
    ILogger<CrmTriggerGrain> logger) : Grain, ICrmTriggerGrain, IRemindable
{
    private const string KeepAliveReminder = "crm-trigger";
    private static readonly string[] Types =
    [
        EventTypes.ContactCreated, EventTypes.ContactUpdated, EventTypes.ConversationStatusChanged, EventTypes.ConversationRated,
    ];

    private IGrainTimer? _timer;
    private bool _running;

    private string Tenant => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _timer = this.RegisterGrainTimer(static (self, _) => self.PumpAsync(), this,
            new GrainTimerCreationOptions(TimeSpan.Zero, options.CurrentValue.PollInterval) { KeepAlive = true });
        return Task.CompletedTask;
    }

    public async Task Start()
    {
        if (await this.GetReminder(KeepAliveReminder) is null)
        {
            await this.RegisterOrUpdateReminder(KeepAliveReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        }
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => Task.CompletedTask; // activation is the point

    public Task<CrmTriggerStatus> GetStatus() => Task.FromResult(new CrmTriggerStatus(state.State.Cursor, state.State.SweepCursor, state.State.LastSweepAt));

    public async Task Reconcile()
    {
        state.State.SweepCursor ??= 0;
        await state.WriteStateAsync();
    }

    private async Task PumpAsync()
    {
        if (_running)
        {
            return;
        }

        _running = true;
        try
        {
            var crms = options.CurrentValue.ForTenant(Tenant).ToList();
            if (crms.Count == 0)
            {
                return;
            }

            while (await StepAsync(crms, sweep: false))
            {
            }

            var interval = options.CurrentValue.ReconcileInterval;
            var s = state.State;
            if (s.SweepCursor is null && interval > TimeSpan.Zero && (s.LastSweepAt is null || time.GetUtcNow() - s.LastSweepAt >= interval))
            {
                s.SweepCursor = 0;
            }

            if (s.SweepCursor is not null)
            {
                // One page per tick: the sweep runs beside new changes, never ahead of them.
                await StepAsync(crms, sweep: true);
            }
        }
#pragma warning disable CA1031 // the next tick tries again from the durable cursor
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogPumpFailed(logger, ex, Tenant);
        }
        finally
        {
            _running = false;
        }
    }

    /// <summary>One page of events: the records told, the cursor stored. True when the page was full (more may follow).</summary>
    private async Task<bool> StepAsync(List<(string Name, CrmConnectorOptions Connector)> crms, bool sweep)
    {
        var s = state.State;
        var after = sweep ? s.SweepCursor!.Value : s.Cursor;
        var batch = Math.Max(1, options.CurrentValue.BatchSize);
        var page = await eventLog.ReadAsync(Tenant, after, Types, batch);
        var touches = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var e in page.Events)
        {
            if (Record(e) is not { } record)
            {
                continue;
            }

            foreach (var (name, connector) in crms)
            {
                if ((record.Kind == CrmRecordKinds.Contact ? connector.Contacts : connector.Conversations) is null)
                {
                    continue;
                }

                var key = CrmSyncKeys.Of(Tenant, name, record.Kind, record.Id);
                touches[key] = sweep ? 0 : Math.Max(touches.GetValueOrDefault(key), record.Version);
            }
        }

        await Task.WhenAll(touches.Select(t => GrainFactory.GetGrain<ICrmSyncGrain>(t.Key).Touch(t.Value)));
        var full = page.Events.Length == batch;
        if (sweep)
        {
            s.SweepCursor = full ? page.Next : null;
            if (!full)
            {
                s.LastSweepAt = time.GetUtcNow();
            }
        }
        else
        {
            s.Cursor = page.Next;
        }

        if (page.Next != after || sweep)
        {
            await state.WriteStateAsync();
        }

        return full && !sweep;
    }

    /// <summary>The record an event is about, with its version; null for events that do not sync (a status change other than resolved).</summary>
    internal static (string Kind, string Id, long Version)? Record(StoredEvent e)
    {
        using var document = JsonDocument.Parse(e.DataJson);
        var data = document.RootElement;
        var version = CrmFields.VersionOf(e.Time);
        switch (e.Type)
        {
            case EventTypes.ContactCreated or EventTypes.ContactUpdated:
                return data.TryGetProperty("contact", out var contact) && contact.TryGetProperty("id", out var id) && id.GetString() is { } contactId
                    ? (CrmRecordKinds.Contact, contactId, version)
                    : null;
            case EventTypes.ConversationStatusChanged when data.TryGetProperty("to", out var to) && to.GetString() == ConversationStatus.Resolved:
            case EventTypes.ConversationRated:
                return e.ConversationId is { } conversationId ? (CrmRecordKinds.Conversation, conversationId, version) : null;
            default:
                return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "CRM trigger of tenant {Tenant} failed; it tries again from its cursor")]
    private static partial void LogPumpFailed(ILogger logger, Exception exception, string tenant);
}
