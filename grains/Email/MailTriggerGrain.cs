using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Email.Templates;
using Kefu.Grains.Events;
using Kefu.Grains.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Email;

[GenerateSerializer]
public sealed class MailTriggerState
{
    /// <summary>Every event up to here has been handed to its mail (durably: the thread or mail grain stored it).</summary>
    [Id(0)] public long Cursor { get; set; }

    /// <summary>When mail started for the tenant: events from before are history, not news (no mail about them).</summary>
    [Id(1)] public DateTimeOffset? StartedAt { get; set; }
}

[GenerateSerializer, Immutable]
public sealed record MailTriggerStatus([property: Id(0)] long Cursor, [property: Id(1)] DateTimeOffset? StartedAt);

/// <summary>A tenant's mail trigger; key: the tenant.</summary>
public interface IMailTriggerGrain : IGrainWithStringKey
{
    /// <summary>Starts (or keeps) the trigger: called by the silo's sink on the tenant's first event it sees.</summary>
    Task Start();

    /// <summary>Events were committed: read now.</summary>
    [OneWay]
    Task Poke();

    [AlwaysInterleave]
    Task<MailTriggerStatus> GetStatus();
}

/// <summary>
/// Reads a tenant's event log after a durable cursor (the pattern of the CRM trigger) and turns events into mail
/// (<see cref="MailTriggerRules"/>): agent replies go to the conversation's <see cref="IMailThreadGrain"/>, resolved
/// conversations of inboxes with transcripts on resolve too, agent notifications straight to an
/// <see cref="IOutboundMailControl"/> with an id derived from the event. The cursor moves only after those grains stored
/// what they were told, so a silo lost in between hands the events over again and the derived ids make that harmless.
/// Woken by <see cref="MailWakeups"/> on this silo, polled for events committed elsewhere, kept alive by a reminder.
/// </summary>
public sealed partial class MailTriggerGrain(
    [PersistentState("mailTrigger", KefuStorage.Name)] IPersistentState<MailTriggerState> state,
    IEventLog eventLog,
    MailWakeups wakeups,
    IOptionsMonitor<MailOptions> options,
    TimeProvider time,
    ILogger<MailTriggerGrain> logger) : Grain, IMailTriggerGrain, IRemindable
{
    private const string KeepAliveReminder = "mail-trigger";
    private const int BatchSize = 200;

    /// <summary>Events this much older than the trigger's start are still news (the event that started it, and its neighbours).</summary>
    private static readonly TimeSpan StartMargin = TimeSpan.FromMinutes(1);

    private EventLogPump? _pump;

    private string Tenant => this.GetPrimaryKeyString();

    private EventLogPump Pump => _pump ??= new(wakeups, Tenant, PumpAsync);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var self = this.AsReference<IMailTriggerGrain>();
        Pump.Start(this, () => self.Poke().Ignore(), options.CurrentValue.PollInterval, MailTriggerRules.Types.ToHashSet(StringComparer.Ordinal));
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _pump?.Stop();
        return Task.CompletedTask;
    }

    public async Task Start()
    {
        if (state.State.StartedAt is null)
        {
            state.State.StartedAt = time.GetUtcNow();
            await state.WriteStateAsync();
        }

        if (await this.GetReminder(KeepAliveReminder) is null)
        {
            await this.RegisterOrUpdateReminder(KeepAliveReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        }

        await PumpAsync();
    }

    public Task Poke() => PumpAsync();

    public Task ReceiveReminder(string reminderName, TickStatus status) => Task.CompletedTask; // activation is the point

    public Task<MailTriggerStatus> GetStatus() => Task.FromResult(new MailTriggerStatus(state.State.Cursor, state.State.StartedAt));

    private Task PumpAsync() => Pump.DrainPagesAsync(() => options.CurrentValue.SendingEnabled && state.State.StartedAt is not null, StepAsync, ex => LogPumpFailed(logger, ex, Tenant));

    /// <summary>One page: its mail handed over, the cursor stored. True when the page was full (more may follow).</summary>
    private async Task<bool> StepAsync()
    {
        var s = state.State;
        var page = await eventLog.ReadAsync(Tenant, s.Cursor, MailTriggerRules.Types, BatchSize);
        var since = s.StartedAt!.Value - StartMargin;
        foreach (var action in MailTriggerRules.Plan(page.Events.Where(e => e.Time >= since)))
        {
            await HandleAsync(action);
        }

        if (page.Next != s.Cursor)
        {
            s.Cursor = page.Next;
            await state.WriteStateAsync();
        }

        return page.Events.Length == BatchSize;
    }

    private async Task HandleAsync(MailAction action)
    {
        var key = Tenancy.Key(Tenant, action.ConversationId);
        switch (action)
        {
            case AgentReplyAction reply:
                await GrainFactory.GetGrain<IMailThreadGrain>(key).AgentReplied(reply.Seq);
                break;
            case ResolvedAction resolved:
                var inbox = await GrainFactory.GetGrain<ITenantGrain>(Tenant).GetInbox(resolved.Inbox);
                if (inbox?.Email is { TranscriptOnResolve: true })
                {
                    await GrainFactory.GetGrain<IMailThreadGrain>(key).TranscriptOnResolve(resolved.EventId, resolved.Time);
                }

                break;
            case NotifyAction notify:
                await NotifyAsync(notify);
                break;
            default:
                break;
        }
    }

    /// <summary>Agent notifications: to the named agent, or for a new conversation nobody online can take, every agent; each only if opted in and offline.</summary>
    private async Task NotifyAsync(NotifyAction notify)
    {
        string[] agentIds;
        if (notify.AgentId is { } one)
        {
            agentIds = [one];
        }
        else
        {
            if (await GrainFactory.GetGrain<IDispatcherGrain>(Tenant).AnyAgentOnline(notify.Inbox))
            {
                return; // someone online will take it
            }

            agentIds = [.. (await GrainFactory.GetGrain<ITenantGrain>(Tenant).ListAgents()).Where(a => !a.Deactivated).Select(a => a.AgentId)];
        }

        (string Name, InboxConfig? Inbox)? inbox = null;
        string? preview = null;
        foreach (var agentId in agentIds)
        {
            var agent = GrainFactory.GetGrain<IAgentGrain>(Tenancy.Key(Tenant, agentId));
            if (await agent.GetPreferences() is not { EmailNotifications: true, Email: { } email } preferences
                || await agent.GetStatus() != AgentStatus.Offline)
            {
                continue;
            }

            if (inbox is null)
            {
                inbox = await ConversationMail.InboxAsync(GrainFactory, Tenant, notify.Inbox);
                preview = notify.Preview
                    ?? (await GrainFactory.GetGrain<IConversationGrain>(Tenancy.Key(Tenant, notify.ConversationId)).GetSummary())?.Preview;
            }

            var language = preferences.Language ?? "en";
            var rendered = MailTemplates.AgentNotification(language, notify.Notice, inbox.Value.Name, notify.VisitorName, notify.ByName, preview,
                options.CurrentValue.ConsoleUrl);
            var mailId = MailIds.Of(notify.Time, "event:" + notify.EventId, MailKinds.AgentNotification, agentId);
            if (!await GrainFactory.GetGrain<IMailThreadRecords>(Tenancy.Key(Tenant, notify.ConversationId)).Track(mailId))
            {
                continue; // the conversation's contact was erased: no mail names it any more
            }

            var mail = new OutboundMail(MailKinds.AgentNotification, notify.ConversationId, email, null, rendered.Subject, rendered.Text, rendered.Html,
                ReplyLocalPart: null, InReplyTo: null, References: []);
            await GrainFactory.GetGrain<IOutboundMailControl>(MailIds.Key(Tenant, mailId)).Enqueue(mail);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Mail trigger of tenant {Tenant} failed; it tries again from its cursor")]
    private static partial void LogPumpFailed(ILogger logger, Exception exception, string tenant);
}
