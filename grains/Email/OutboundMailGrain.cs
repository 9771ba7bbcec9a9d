using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Grains.Crm;
using Kefu.Grains.Events;
using Kefu.Grains.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Email;

[GenerateSerializer]
public sealed class OutboundMailState : IBackstopState
{
    [Id(0)] public OutboundMail? Mail { get; set; }

    [Id(1)] public string State { get; set; } = MailStates.Pending;

    [Id(2)] public int Attempts { get; set; }

    [Id(3)] public string? LastError { get; set; }

    [Id(4)] public DateTimeOffset? NextAttemptAt { get; set; }

    [Id(5)] public DateTimeOffset? SentAt { get; set; }

    [Id(6)] public bool Bounced { get; set; }

    [Id(7)] public DateTimeOffset CreatedAt { get; set; }

    /// <summary>email.sent / email.failed written with the state and not yet relayed (<see cref="GrainEvents"/>).</summary>
    [Id(8)] public List<DomainEvent> PendingEvents { get; set; } = [];

    [Id(9)] public bool ReminderSet { get; set; }

    /// <summary>The recipient's contact was erased: the mail (address, subject, bodies) is gone and is never sent nor made again.</summary>
    [Id(10)] public bool Erased { get; set; }
}

/// <summary>A stored mail as a contact's export shows it.</summary>
[GenerateSerializer, Immutable]
public sealed record OutboundMailRecord(
    [property: Id(0)] OutboundMailView View,
    [property: Id(1)] OutboundMail Mail,
    [property: Id(2)] DateTimeOffset CreatedAt);

/// <summary>What the silo's own mail code asks of a mail grain (the base <see cref="IOutboundMailGrain"/> is the receiver's side).</summary>
public interface IOutboundMailControl : IGrainWithStringKey
{
    /// <summary>Stores the mail and starts sending it; a mail already stored under this id is kept as it is (same cause, same mail).</summary>
    Task<OutboundMailView> Enqueue(OutboundMail mail);

    [AlwaysInterleave]
    Task<OutboundMailView?> Get();

    /// <summary>The whole stored mail (a contact's export); null when there is none.</summary>
    [AlwaysInterleave]
    Task<OutboundMailRecord?> Read();

    /// <summary>
    /// Deletes the stored mail (address, subject, bodies) and makes sure it is never sent, nor stored again under this id;
    /// true when there was a mail. A running attempt finishes first (the grain is not reentrant).
    /// </summary>
    Task<bool> Erase();
}

/// <summary>
/// One outgoing mail, keyed "{tenant}/{mailId}" (docs/email.md, "Retries and bounces"): pending → sent | failed. The
/// mail is stored before the first attempt, so it survives a lost silo; attempts wait a full-jitter backoff on a grain
/// timer, and a reminder (while pending) is the backstop that brings the mail back on another silo. Once the SMTP server
/// accepted it, it is never sent again (the write of "sent" is the only window: a silo lost between the server's answer
/// and that write sends it once more, with the same Message-ID). A 5xx answer, running out of attempts, or a bounce
/// reported later by the receiver make it failed, with an email.failed event.
/// </summary>
public sealed partial class OutboundMailGrain(
    [PersistentState("outboundMail", KefuStorage.Name)] IPersistentState<OutboundMailState> state,
    IMailSender sender,
    IOptionsMonitor<MailOptions> options,
    IEventLog eventLog,
    TimeProvider time,
    ILogger<OutboundMailGrain> logger) : Grain, IOutboundMailGrain, IOutboundMailControl, IRemindable
{
    private const string BackstopReminder = "outbound-mail";
    private static readonly TimeSpan ReminderPeriod = TimeSpan.FromMinutes(1);

    private DueTimer? _due;

    private (string Tenant, string MailId) Key
    {
        get
        {
            var key = this.GetPrimaryKeyString();
            var slash = key.LastIndexOf('/');
            return (key[..slash], key[(slash + 1)..]);
        }
    }

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await GrainEvents.RelayAsync(eventLog, state.State.PendingEvents);
        if (state.State is { Mail: not null, State: MailStates.Pending } s)
        {
            Schedule(s.NextAttemptAt ?? time.GetUtcNow());
        }
    }

    public async Task<OutboundMailView> Enqueue(OutboundMail mail)
    {
        ArgumentNullException.ThrowIfNull(mail);
        var s = state.State;
        if (s.Erased)
        {
            return ErasedView(mail.Kind); // the recipient's contact was erased: a replayed cause makes no mail
        }

        if (s.Mail is not null)
        {
            return View(); // handled before: the same cause never makes a second mail
        }

        s.Mail = mail;
        s.State = MailStates.Pending;
        s.CreatedAt = time.GetUtcNow();
        await SaveAsync();
        Schedule(s.CreatedAt);
        return View();
    }

    public Task<OutboundMailView?> Get() => Task.FromResult(state.State.Mail is null ? null : View());

    public Task<OutboundMailRecord?> Read() =>
        Task.FromResult(state.State is { Mail: { } mail } s ? new OutboundMailRecord(View(), mail, s.CreatedAt) : null);

    public async Task<bool> Erase()
    {
        _due?.Cancel();
        var old = state.State;
        if (old.Erased)
        {
            return false;
        }

        // email.sent / email.failed not yet relayed go out first, so the event log's erasure blanks them with the others.
        if (!await GrainEvents.RelayAsync(eventLog, old.PendingEvents))
        {
            throw new InvalidOperationException("The event log is unavailable; the erasure of the mail is retried.");
        }

        state.State = new OutboundMailState { Erased = true, State = MailStates.Erased, CreatedAt = old.CreatedAt, ReminderSet = old.ReminderSet };
        await state.WriteStateAsync();
        await DropReminderAsync();
        return old.Mail is not null;
    }

    public async Task Bounced(string reason)
    {
        var s = state.State;
        if (s.Mail is not { } mail)
        {
            LogUnknownBounce(logger, this.GetPrimaryKeyString());
            return;
        }

        if (s.Bounced)
        {
            return; // the same bounce delivered twice
        }

        s.Bounced = true;
        s.State = MailStates.Failed;
        s.NextAttemptAt = null;
        s.LastError = string.IsNullOrWhiteSpace(reason) ? "bounced" : reason.Length > 500 ? reason[..500] : reason;
        _due?.Cancel();
        AddFailed(mail, s);
        LogBounced(logger, Key.MailId, mail.Kind, s.LastError);
        await SaveAsync();
        await DropReminderAsync();
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        var s = state.State;
        if (s.Mail is not null && s.State == MailStates.Pending)
        {
            Schedule(s.NextAttemptAt is { } next && next > time.GetUtcNow() ? next : time.GetUtcNow());
            return Task.CompletedTask;
        }

        return DropReminderAsync();
    }

    private async Task AttemptAsync()
    {
        var s = state.State;
        if (s.Mail is not { } mail || s.State != MailStates.Pending)
        {
            return;
        }

        var o = options.CurrentValue;
        if (!o.SendingEnabled)
        {
            return; // configuration removed: the reminder looks again, nothing is given up
        }

        var (tenant, mailId) = Key;
        var addresses = new MailAddresses(o);
        var envelope = new MailEnvelope(mail, addresses.MessageId(mailId, mail.ReplyLocalPart), addresses.EnvelopeFrom(tenant, mailId),
            addresses.ReplyTo(mail.ReplyLocalPart));

        // In the grain's turn: MailKit's I/O is asynchronous and bounded by the SMTP timeout, and a bounce that arrives
        // meanwhile must wait for the attempt's outcome anyway.
        MailAttemptResult result;
        try
        {
            result = await sender.SendAsync(envelope, CancellationToken.None);
        }
#pragma warning disable CA1031 // whatever went wrong is a failed attempt, tried again
        catch (Exception ex)
#pragma warning restore CA1031
        {
            result = new MailAttemptResult(MailAttemptOutcome.Retry, ex.Message);
        }

        var now = time.GetUtcNow();
        s.Attempts++;
        switch (result.Outcome)
        {
            case MailAttemptOutcome.Sent:
                s.State = MailStates.Sent;
                s.SentAt = now;
                s.NextAttemptAt = null;
                s.LastError = null;
                s.PendingEvents.Add(GrainEvents.Create(tenant, new EmailSent(mail.ConversationId, mailId, mail.Kind, mail.To, mail.Subject), Causation.Of("mail"), now));
                LogSent(logger, mailId, mail.Kind, s.Attempts);
                break;
            case MailAttemptOutcome.Failed:
                s.State = MailStates.Failed;
                s.LastError = result.Error;
                s.NextAttemptAt = null;
                AddFailed(mail, s);
                LogRefused(logger, mailId, mail.Kind, result.Error);
                break;
            default:
                s.LastError = result.Error;
                if (s.Attempts >= Math.Max(1, o.Retry.MaxAttempts))
                {
                    s.State = MailStates.Failed;
                    s.NextAttemptAt = null;
                    AddFailed(mail, s);
                    LogGaveUp(logger, mailId, mail.Kind, s.Attempts, result.Error);
                }
                else
                {
                    var retry = new CrmRetryOptions { BaseDelay = o.Retry.BaseDelay, MaxDelay = o.Retry.MaxDelay };
                    s.NextAttemptAt = now + CrmBackoff.Delay(retry, s.Attempts, null, Random.Shared.NextDouble());
                    LogRetry(logger, mailId, mail.Kind, s.Attempts, result.Error);
                }

                break;
        }

        await SaveAsync();
        if (s.State == MailStates.Pending)
        {
            Schedule(s.NextAttemptAt ?? now);
        }
        else
        {
            await DropReminderAsync();
        }
    }

    private void AddFailed(OutboundMail mail, OutboundMailState s)
    {
        var (tenant, mailId) = Key;
        s.PendingEvents.Add(GrainEvents.Create(tenant, new EmailFailed(mail.ConversationId, mailId, mail.Kind, mail.To, s.LastError, s.Bounced, s.Attempts),
            Causation.Of("mail"), time.GetUtcNow()));
    }

    /// <summary>Writes the state (with any event, relayed right after) and keeps the backstop reminder while the mail is pending.</summary>
    private async Task SaveAsync()
    {
        var s = state.State;
        var remind = s.State == MailStates.Pending && !s.ReminderSet;
        s.ReminderSet |= remind;
        await state.WriteStateAsync();
        await GrainEvents.RelayAsync(eventLog, s.PendingEvents);
        if (remind)
        {
            await this.RegisterOrUpdateReminder(BackstopReminder, ReminderPeriod, ReminderPeriod);
        }
    }

    private Task DropReminderAsync() => DueTimer.DropBackstopAsync(this, BackstopReminder, state);

    private void Schedule(DateTimeOffset at) => (_due ??= new(this, time, AttemptAsync)).Schedule(at);

    private OutboundMailView ErasedView(string kind) =>
        new(Key.MailId, MailStates.Erased, kind, string.Empty, 0, null, null, null, false, string.Empty);

    private OutboundMailView View()
    {
        var s = state.State;
        var mail = s.Mail!;
        var addresses = new MailAddresses(options.CurrentValue);
        return new OutboundMailView(Key.MailId, s.State, mail.Kind, mail.To, s.Attempts, s.LastError,
            s.State == MailStates.Pending ? s.NextAttemptAt : null, s.SentAt, s.Bounced, addresses.MessageId(Key.MailId, mail.ReplyLocalPart));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Mail {MailId} ({Kind}) sent after {Attempts} attempt(s)")]
    private static partial void LogSent(ILogger logger, string mailId, string kind, int attempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Mail {MailId} ({Kind}) not sent (attempt {Attempts}): {Error}; trying again later")]
    private static partial void LogRetry(ILogger logger, string mailId, string kind, int attempts, string? error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Mail {MailId} ({Kind}) refused by the SMTP server: {Error}")]
    private static partial void LogRefused(ILogger logger, string mailId, string kind, string? error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Mail {MailId} ({Kind}) given up after {Attempts} attempts: {Error}")]
    private static partial void LogGaveUp(ILogger logger, string mailId, string kind, int attempts, string? error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Mail {MailId} ({Kind}) bounced: {Reason}")]
    private static partial void LogBounced(ILogger logger, string mailId, string kind, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "A bounce names mail {Key}, which Kefu does not have: ignored")]
    private static partial void LogUnknownBounce(ILogger logger, string key);
}
