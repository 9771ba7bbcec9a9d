using Kefu.Contracts.Events;
using Kefu.Contracts.Messages;
using Kefu.Grains.Email;
using Kefu.Grains.Email.Templates;

namespace Kefu.Grains.Tests.Email;

/// <summary>Which events ask for which mail (docs/email.md, "What is sent when"), and the derived mail ids and addresses.</summary>
public sealed class MailTriggerRulesTests
{
    private const string Tenant = "acme";
    private static readonly string ConversationId = Ulid.NewUlid().ToString();
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 9, 0, 0, TimeSpan.Zero);

    private static ConversationSummary Summary(string? assignee = null) =>
        new(ConversationId, Tenant, "web", "v1", "Kim", ConversationStatus.Open, assignee, 3, Now, []);

    private static StoredEvent Stored(long seq, EventData data, Causation? causation = null)
    {
        var e = new DomainEvent(Ulid.NewUlid(), Tenant, ConversationId, seq, Now, causation ?? Causation.Of("test"), data);
        return new StoredEvent(seq, e.Id, e.Type, Tenant, ConversationId, seq, Now, e.Causation, EventJson.Data(data));
    }

    private static ChatMessage Message(long seq, ParticipantRole role) =>
        new(ConversationId, Ulid.NewUlid(), seq, new Sender(role, role == ParticipantRole.Agent ? "bo" : "v1", "X"), "text", Now, "c" + seq);

    [Fact]
    public void Agent_messages_are_offline_reply_candidates_and_visitor_or_bot_messages_are_not()
    {
        var actions = MailTriggerRules.Plan([
            Stored(1, new MessageCreated(Message(1, ParticipantRole.Visitor))),
            Stored(2, new MessageCreated(Message(2, ParticipantRole.Agent))),
            Stored(3, new MessageCreated(Message(3, ParticipantRole.Bot))),
        ]);
        var reply = Assert.IsType<AgentReplyAction>(Assert.Single(actions));
        Assert.Equal(2, reply.Seq);
        Assert.Equal(ConversationId, reply.ConversationId);
    }

    [Fact]
    public void Resolving_asks_for_a_transcript_other_status_changes_do_not()
    {
        var actions = MailTriggerRules.Plan([
            Stored(1, new ConversationStatusChanged(ConversationStatus.Open, ConversationStatus.Pending, Summary())),
            Stored(2, new ConversationStatusChanged(ConversationStatus.Pending, ConversationStatus.Resolved, Summary())),
        ]);
        var resolved = Assert.IsType<ResolvedAction>(Assert.Single(actions));
        Assert.Equal("web", resolved.Inbox);
    }

    [Fact]
    public void A_transfer_to_an_agent_is_one_notice_not_also_the_assignment_that_follows_it()
    {
        var actions = MailTriggerRules.Plan([
            Stored(4, new ConversationTransferred("bo", "cy", null, Summary("cy")), new Causation(Causation.Agent, "bo", "Bo")),
            Stored(5, new ConversationAssigned("cy", "Cy", "bo", Summary("cy")), new Causation(Causation.Agent, "bo", "Bo")),
        ]);
        var notice = Assert.IsType<NotifyAction>(Assert.Single(actions));
        Assert.Equal(AgentNotice.Transferred, notice.Notice);
        Assert.Equal("cy", notice.AgentId);
        Assert.Equal("Bo", notice.ByName);
        Assert.Equal("Kim", notice.VisitorName);
    }

    [Fact]
    public void An_assignment_notifies_the_assignee_unless_the_agent_took_it_itself()
    {
        var actions = MailTriggerRules.Plan([
            Stored(1, new ConversationAssigned("cy", "Cy", null, Summary("cy")), Causation.Of("dispatcher")),
            Stored(2, new ConversationAssigned("bo", "Bo", "cy", Summary("bo")), new Causation(Causation.Agent, "bo", "Bo")),
            Stored(3, new ConversationTransferred("bo", null, "sales", Summary())),
        ]);
        var notice = Assert.IsType<NotifyAction>(Assert.Single(actions));
        Assert.Equal(AgentNotice.Assigned, notice.Notice);
        Assert.Equal("cy", notice.AgentId);
    }

    [Fact]
    public void A_new_conversation_is_a_notice_for_every_opted_in_agent()
    {
        var notice = Assert.IsType<NotifyAction>(Assert.Single(MailTriggerRules.Plan([Stored(1, new ConversationCreated(Summary()))])));
        Assert.Equal(AgentNotice.NewConversation, notice.Notice);
        Assert.Null(notice.AgentId);
    }

    [Fact]
    public void Mail_ids_are_derived_from_their_cause_kind_and_recipient()
    {
        var id = MailIds.Of(Now, "event:1", MailKinds.AgentNotification, "bo@example.com");
        Assert.Equal(id, MailIds.Of(Now, "event:1", MailKinds.AgentNotification, "BO@example.com"));
        Assert.NotEqual(id, MailIds.Of(Now, "event:2", MailKinds.AgentNotification, "bo@example.com"));
        Assert.NotEqual(id, MailIds.Of(Now, "event:1", MailKinds.Transcript, "bo@example.com"));
        Assert.NotEqual(id, MailIds.Of(Now, "event:1", MailKinds.AgentNotification, "cy@example.com"));
        Assert.Equal(Now.ToUnixTimeMilliseconds(), Ulid.Parse(id).Time.ToUnixTimeMilliseconds());
    }

    [Fact]
    public void Addresses_are_signed_only_with_a_reply_domain_and_a_long_enough_key()
    {
        var signed = new MailAddresses(new MailOptions { From = "Acme <help@acme.example>", ReplyDomain = "reply.acme.example", TokenKey = new string('k', 32) });
        var replyLocal = signed.ReplyLocalPart(Tenant, ConversationId)!;
        var mailId = Ulid.NewUlid().ToString();
        Assert.Equal($"{replyLocal}@reply.acme.example", signed.ReplyTo(replyLocal));
        Assert.StartsWith("bounce+" + mailId + ".", signed.EnvelopeFrom(Tenant, mailId), StringComparison.Ordinal);
        Assert.EndsWith(".acme@reply.acme.example", signed.EnvelopeFrom(Tenant, mailId), StringComparison.Ordinal);
        Assert.Equal($"{mailId}.{replyLocal}@reply.acme.example", signed.MessageId(mailId, replyLocal));

        var plain = new MailAddresses(new MailOptions { From = "Acme <help@acme.example>", ReplyDomain = "reply.acme.example", TokenKey = "short" });
        Assert.False(plain.Signed);
        Assert.Null(plain.ReplyLocalPart(Tenant, ConversationId));
        Assert.Equal("help@acme.example", plain.EnvelopeFrom(Tenant, mailId));
        Assert.Equal($"{mailId}@acme.example", plain.MessageId(mailId, null));
    }
}
