using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Email.Templates;
using Kefu.Grains.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Email;

[GenerateSerializer]
public sealed class MailThreadState : IBackstopState
{
    /// <summary>Message-IDs of the mails sent about this conversation, oldest first (the last few: References).</summary>
    [Id(0)] public List<string> MessageIds { get; set; } = [];

    /// <summary>The newest agent message seq the thread was told about (a replayed event is older: ignored).</summary>
    [Id(1)] public long AgentSeq { get; set; }

    /// <summary>The first agent message not yet mailed nor seen (null: nothing waits).</summary>
    [Id(2)] public long? PendingFromSeq { get; set; }

    [Id(3)] public DateTimeOffset? PendingSince { get; set; }

    [Id(4)] public DateTimeOffset? DueAt { get; set; }

    [Id(5)] public DateTimeOffset? LastTranscriptAt { get; set; }

    [Id(6)] public bool ReminderSet { get; set; }

    /// <summary>The agent messages already mailed (or found seen) reach this seq.</summary>
    [Id(7)] public long SettledSeq { get; set; }

    /// <summary>
    /// Every mail about this conversation (offline replies, transcripts, agent notifications), oldest first, recorded before
    /// it is enqueued: a contact's export and erasure find the mails through it (their ids are derived, not listed anywhere else).
    /// </summary>
    [Id(8)] public List<string> MailIds { get; set; } = [];

    /// <summary>The conversation's contact was erased: the thread sends nothing ever again and keeps only <see cref="MailIds"/>.</summary>
    [Id(9)] public bool Erased { get; set; }
}

/// <summary>A mail thread's side of a contact's export and erasure, and the record of its mails: internal to the silo.</summary>
public interface IMailThreadRecords : IGrainWithStringKey
{
    /// <summary>Records a mail about the conversation before it is enqueued; false when the thread was erased (the mail must not be made).</summary>
    Task<bool> Track(string mailId);

    /// <summary>The ids of every mail known about the conversation (recorded, or named by the thread's Message-IDs).</summary>
    [AlwaysInterleave]
    Task<string[]> ListMails();

    /// <summary>
    /// Stops the thread for good (no pending offline reply goes out, no transcript or notification is made any more) and
    /// returns the ids of its mails, for their erasure. Idempotent: a retry gets the same ids.
    /// </summary>
    Task<string[]> Erase();
}

/// <summary>What a conversation's mail thread is doing, for tests and diagnostics.</summary>
[GenerateSerializer, Immutable]
public sealed record MailThreadStatus(
    [property: Id(0)] long AgentSeq,
    [property: Id(1)] long? PendingFromSeq,
    [property: Id(2)] DateTimeOffset? DueAt,
    [property: Id(3)] string[] MessageIds,
    [property: Id(4)] long SettledSeq);

/// <summary>A conversation's mail to its visitor; key "{tenant}/{conversationId}".</summary>
public interface IMailThreadGrain : IGrainWithStringKey
{
    /// <summary>An agent wrote message <paramref name="seq"/>: it goes by mail if the visitor is still away when it is due.</summary>
    Task AgentReplied(long seq);

    /// <summary>The visitor asks for the transcript (to <paramref name="email"/>, else the address Kefu knows): the mail id.</summary>
    Task<Outcome<string>> RequestTranscript(string? email);

    /// <summary>The conversation was resolved (event <paramref name="eventId"/>, at <paramref name="at"/>) in an inbox that mails transcripts on resolve.</summary>
    Task TranscriptOnResolve(string eventId, DateTimeOffset at);

    [AlwaysInterleave]
    Task<MailThreadStatus> GetStatus();
}

/// <summary>
/// One conversation's mail to its visitor (docs/email.md): the single writer of the thread's Message-ID chain (so each
/// mail's In-Reply-To / References name the one before), the offline-reply debounce, and the transcript rate limit.
/// Offline replies: an agent message starts a wait of <see cref="MailOptions.OfflineReplyAfter"/> (later messages push it
/// back, at most to twice that after the first); when it is due and the visitor is neither connected nor has read them,
/// every agent message since the last mail goes in one mail, so none is lost and a burst is one mail. The wait is durable
/// (state, timer, reminder backstop).
/// </summary>
public sealed partial class MailThreadGrain(
    [PersistentState("mailThread", KefuStorage.Name)] IPersistentState<MailThreadState> state,
    IOptionsMonitor<MailOptions> options,
    TimeProvider time,
    ILogger<MailThreadGrain> logger) : Grain, IMailThreadGrain, IMailThreadRecords, IRemindable
{
    private const string BackstopReminder = "mail-thread";
    private const int MaxReferences = 10;
    private DueTimer? _due;

    private (string Tenant, string ConversationId) Key => Tenancy.Split(this.GetPrimaryKeyString());

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.DueAt is { } due)
        {
            Schedule(due);
        }

        return Task.CompletedTask;
    }

    public async Task AgentReplied(long seq)
    {
        var s = state.State;
        if (s.Erased || seq <= s.AgentSeq || seq <= s.SettledSeq)
        {
            return; // told before (a replayed event)
        }

        var now = time.GetUtcNow();
        var after = options.CurrentValue.OfflineReplyAfter;
        s.AgentSeq = seq;
        if (s.PendingFromSeq is null)
        {
            s.PendingFromSeq = seq;
            s.PendingSince = now;
        }

        // A debounce with a ceiling: a burst of replies is one mail, a chatty agent does not hold the mail back for ever.
        var ceiling = s.PendingSince!.Value + after + after;
        s.DueAt = now + after < ceiling ? now + after : ceiling;
        await SaveAsync();
        Schedule(s.DueAt.Value);
    }

    public async Task<Outcome<string>> RequestTranscript(string? email)
    {
        var s = state.State;
        var now = time.GetUtcNow();
        if (s.Erased)
        {
            return KefuError.NotFound("Conversation");
        }

        if (s.LastTranscriptAt is { } last && now - last < options.CurrentValue.TranscriptInterval)
        {
            return new KefuError(ErrorCodes.RateLimited, "A transcript was sent a moment ago; try again in a minute.");
        }

        var (tenant, conversationId) = Key;
        var conversation = GrainFactory.GetGrain<IConversationGrain>(this.GetPrimaryKeyString());
        if (await conversation.GetSummary() is not { } summary)
        {
            return KefuError.NotFound("Conversation");
        }

        var visitor = await ConversationMail.VisitorAsync(GrainFactory, tenant, summary.VisitorId);
        var to = email ?? visitor.Email;
        if (to is null)
        {
            return KefuError.Invalid("email is required: no address is known for this visitor.");
        }

        var mailId = MailIds.Of(now, "transcript-request:" + Ulid.NewUlid(now), MailKinds.Transcript, to);
        s.LastTranscriptAt = now;
        await EnqueueTranscriptAsync(summary, visitor with { Email = to }, mailId);
        return mailId;
    }

    public async Task TranscriptOnResolve(string eventId, DateTimeOffset at)
    {
        var (tenant, _) = Key;
        if (state.State.Erased || await GrainFactory.GetGrain<IConversationGrain>(this.GetPrimaryKeyString()).GetSummary() is not { } summary)
        {
            return;
        }

        var visitor = await ConversationMail.VisitorAsync(GrainFactory, tenant, summary.VisitorId);
        if (visitor.Email is not { } to)
        {
            return; // nobody to send it to
        }

        await EnqueueTranscriptAsync(summary, visitor, MailIds.Of(at, "resolved:" + eventId, MailKinds.Transcript, to));
    }

    public Task<MailThreadStatus> GetStatus()
    {
        var s = state.State;
        return Task.FromResult(new MailThreadStatus(s.AgentSeq, s.PendingFromSeq, s.DueAt, [.. s.MessageIds], s.SettledSeq));
    }

    public async Task<bool> Track(string mailId)
    {
        var s = state.State;
        if (s.Erased)
        {
            return false;
        }

        if (!s.MailIds.Contains(mailId))
        {
            s.MailIds.Add(mailId);
            await state.WriteStateAsync();
        }

        return true;
    }

    public Task<string[]> ListMails() => Task.FromResult(AllMailIds(state.State));

    public async Task<string[]> Erase()
    {
        var old = state.State;
        var ids = AllMailIds(old);
        _due?.Cancel();
        if (!old.Erased)
        {
            state.State = new MailThreadState { Erased = true, MailIds = [.. ids], ReminderSet = old.ReminderSet };
            await state.WriteStateAsync();
            await DropReminderAsync();
        }

        return ids;
    }

    /// <summary>The recorded mail ids and those named by the thread's Message-IDs ("{mailId}[.{reply}]@{domain}", threads older than the record).</summary>
    internal static string[] AllMailIds(MailThreadState s) =>
    [
        .. s.MailIds.Concat(s.MessageIds.Select(id => id.IndexOfAny(['.', '@']) is var end and > 0 ? id[..end] : id).Where(id => Ulid.TryParse(id, out _)))
            .Distinct(StringComparer.Ordinal),
    ];

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (state.State.DueAt is { } due)
        {
            Schedule(due);
            return Task.CompletedTask;
        }

        return DueTimer.DropBackstopAsync(this, BackstopReminder, state, firing: true);
    }

    private async Task EnqueueTranscriptAsync(ConversationSummary summary, VisitorMailbox visitor, string mailId)
    {
        var (tenant, conversationId) = Key;
        var o = options.CurrentValue;
        var conversation = GrainFactory.GetGrain<IConversationGrain>(this.GetPrimaryKeyString());
        var last = summary.LastSeq;
        var first = Math.Max(0, last - Math.Max(1, o.TranscriptMaxMessages));
        var messages = await ConversationMail.MessagesAsync(conversation, tenant, first, last);
        var (inboxName, _) = await ConversationMail.InboxAsync(GrainFactory, tenant, summary.Inbox);
        var rendered = MailTemplates.Transcript(visitor.Language, inboxName, visitor.Name, summary.CreatedAt,
            [.. messages.Select(ConversationMail.Line)], (int)first);
        await EnqueueAsync(MailKinds.Transcript, conversationId, visitor, rendered, mailId);
    }

    /// <summary>The offline-reply wait is over: mail the replies the visitor has not seen, or drop them if it has.</summary>
    private async Task DueAsync()
    {
        var s = state.State;
        if (s.Erased || s.DueAt is not { } due || s.PendingFromSeq is not { } from)
        {
            return;
        }

        if (due > time.GetUtcNow())
        {
            Schedule(due);
            return;
        }

        var (tenant, conversationId) = Key;
        var through = s.AgentSeq;
        var conversation = GrainFactory.GetGrain<IConversationGrain>(this.GetPrimaryKeyString());
        var summary = await conversation.GetSummary();
        if (summary is not null && !options.CurrentValue.SendingEnabled)
        {
            s.DueAt = time.GetUtcNow() + options.CurrentValue.PollInterval; // configuration gone for now: keep the wait
            await SaveAsync();
            Schedule(s.DueAt.Value);
            return;
        }

        var reason = summary is null ? "gone" : await SkipReasonAsync(tenant, summary, through);
        if (reason is null)
        {
            var visitor = await ConversationMail.VisitorAsync(GrainFactory, tenant, summary!.VisitorId);
            if (visitor.Email is null)
            {
                reason = "no address";
            }
            else
            {
                var history = Math.Max(0, options.CurrentValue.HistoryMessages);
                var messages = await ConversationMail.MessagesAsync(conversation, tenant, Math.Max(0, from - 1 - history), through);
                var replies = messages.Where(m => m.Seq >= from && m.Sender.Role != ParticipantRole.Visitor).Select(ConversationMail.Line).ToList();
                var earlier = messages.Where(m => m.Seq < from).Select(ConversationMail.Line).ToList();
                var (inboxName, _) = await ConversationMail.InboxAsync(GrainFactory, tenant, summary.Inbox);
                var rendered = MailTemplates.OfflineReply(visitor.Language, inboxName, visitor.Name, replies, earlier);
                var firstReply = messages.FirstOrDefault(m => m.Seq >= from);
                var mailId = MailIds.Of(firstReply?.Ts ?? time.GetUtcNow(), $"offline-reply:{conversationId}:{from}", MailKinds.OfflineReply, visitor.Email);
                await EnqueueAsync(MailKinds.OfflineReply, conversationId, visitor, rendered, mailId, save: false);
            }
        }

        if (reason is not null)
        {
            LogNotMailed(logger, conversationId, from, through, reason);
        }

        s.SettledSeq = Math.Max(s.SettledSeq, through);
        if (s.AgentSeq <= through)
        {
            s.PendingFromSeq = null;
            s.PendingSince = null;
            s.DueAt = null;
        }

        await SaveAsync();
    }

    /// <summary>Why the replies need no mail (the visitor is here or has read them), or null when they do.</summary>
    private async Task<string?> SkipReasonAsync(string tenant, ConversationSummary summary, long through)
    {
        var presence = await GrainFactory.GetGrain<IVisitorGrain>(Tenancy.Key(tenant, summary.VisitorId)).GetPresence();
        if (presence.IsOnline)
        {
            return "visitor connected";
        }

        var read = summary.ReadMarks?.GetValueOrDefault(ParticipantKeys.Key(tenant, ParticipantRole.Visitor, summary.VisitorId)) ?? 0;
        return read >= through ? "visitor has read them" : null;
    }

    private async Task EnqueueAsync(string kind, string conversationId, VisitorMailbox visitor, RenderedMail rendered, string mailId, bool save = true)
    {
        var (tenant, _) = Key;
        var s = state.State;
        var addresses = new MailAddresses(options.CurrentValue);
        var replyLocalPart = addresses.ReplyLocalPart(tenant, conversationId);
        var messageId = addresses.MessageId(mailId, replyLocalPart);
        var previous = s.MessageIds.Where(id => id != messageId).ToList();
        if (!s.MailIds.Contains(mailId))
        {
            // Recorded before the mail exists, so a contact's erasure finds every mail, even one a lost silo left behind.
            s.MailIds.Add(mailId);
            await state.WriteStateAsync();
        }

        var mail = new OutboundMail(kind, conversationId, visitor.Email!, visitor.Name, rendered.Subject, rendered.Text, rendered.Html,
            replyLocalPart, previous.Count > 0 ? previous[^1] : null, [.. previous.TakeLast(MaxReferences)]);
        await GrainFactory.GetGrain<IOutboundMailControl>(MailIds.Key(tenant, mailId)).Enqueue(mail);
        if (!s.MessageIds.Contains(messageId))
        {
            s.MessageIds.Add(messageId);
            if (s.MessageIds.Count > MaxReferences)
            {
                s.MessageIds.RemoveAt(0);
            }
        }

        if (save)
        {
            await SaveAsync();
        }
    }

    private async Task SaveAsync()
    {
        var s = state.State;
        var remind = s.DueAt is not null && !s.ReminderSet;
        s.ReminderSet |= remind;
        await state.WriteStateAsync();
        if (remind)
        {
            await this.RegisterOrUpdateReminder(BackstopReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        }
        else if (s.DueAt is null && s.ReminderSet)
        {
            await DropReminderAsync();
        }
    }

    private Task DropReminderAsync() => DueTimer.DropBackstopAsync(this, BackstopReminder, state);

    private void Schedule(DateTimeOffset at) => (_due ??= new(this, time, DueAsync)).Schedule(at);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Conversation {ConversationId}: agent messages {From}..{Through} not mailed ({Reason})")]
    private static partial void LogNotMailed(ILogger logger, string conversationId, long from, long through, string reason);
}
