using System.Collections.Concurrent;
using Kefu.Gateway.Email;
using Kefu.Gateway.Tests.Infrastructure;
using Kefu.Gateway.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Kefu.Gateway.Tests.Email;

/// <summary>
/// What a mail to a bounce address does, through the handler the receiver calls, with a recording sink in place of the
/// outbound mail's grain (which the sending side provides).
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class MailReceiverBounceTests(GatewayFixture gateway)
{
    private sealed class RecordingSink : IBounceSink
    {
        public ConcurrentQueue<(string Tenant, string MailId, string Reason)> Bounces { get; } = new();

        public bool Fail { get; set; }

        public Task BouncedAsync(string tenant, string mailId, string reason)
        {
            if (Fail)
            {
                throw new TimeoutException("The cluster is away.");
            }

            Bounces.Enqueue((tenant, mailId, reason));
            return Task.CompletedTask;
        }
    }

    private (InboundMailHandler Handler, RecordingSink Sink) Create()
    {
        var sink = new RecordingSink();
        var handler = new InboundMailHandler(
            gateway.Services.GetRequiredService<IGrainFactory>(), sink, gateway.Services.GetRequiredService<InboundAddresses>(),
            Options.Create(new KefuWebSocketOptions()), NullLogger<InboundMailHandler>.Instance);
        return (handler, sink);
    }

    [Fact]
    public async Task A_failed_delivery_report_tells_the_outbound_mail_it_bounced()
    {
        var (handler, sink) = Create();
        var mailId = Ulid.NewUlid().ToString();
        var dsn = MailReceiverDsnReaderTests.Parse(MailReceiverDsnReaderTests.Dsn("failed", "5.1.1", "550 5.1.1 User unknown"));

        var outcome = await handler.HandleAsync([new InboundAddress(InboundKind.Bounce, "acme", mailId)], dsn);

        Assert.Equal(InboundOutcome.Accepted, outcome);
        var bounce = Assert.Single(sink.Bounces);
        Assert.Equal(("acme", mailId, "ann@example.com: 550 5.1.1 User unknown"), bounce);
    }

    [Fact]
    public async Task Delays_and_other_mail_to_a_bounce_address_are_dropped()
    {
        var (handler, sink) = Create();
        var address = new InboundAddress(InboundKind.Bounce, "acme", Ulid.NewUlid().ToString());
        var delayed = MailReceiverDsnReaderTests.Parse(MailReceiverDsnReaderTests.Dsn("delayed", "4.4.1", "451 4.4.1 try later"));
        var autoReply = MailReceiverDsnReaderTests.Parse("From: ann@example.com\r\nSubject: Out of office\r\n\r\nAway.\r\n");

        Assert.Equal(InboundOutcome.Accepted, await handler.HandleAsync([address], delayed));
        Assert.Equal(InboundOutcome.Accepted, await handler.HandleAsync([address], autoReply));
        Assert.Empty(sink.Bounces);
    }

    [Fact]
    public async Task When_the_bounce_cannot_be_recorded_the_sender_is_asked_to_try_again()
    {
        var (handler, sink) = Create();
        sink.Fail = true;
        var dsn = MailReceiverDsnReaderTests.Parse(MailReceiverDsnReaderTests.Dsn("failed", "5.1.1", "550 5.1.1 User unknown"));
        Assert.Equal(InboundOutcome.TryLater, await handler.HandleAsync([new InboundAddress(InboundKind.Bounce, "acme", Ulid.NewUlid().ToString())], dsn));
    }

    [Fact]
    public void Only_signed_addresses_of_the_reply_domain_and_the_from_address_are_taken()
    {
        var key = System.Text.Encoding.UTF8.GetBytes(GatewayFixture.MailTokenKey);
        var addresses = new InboundAddresses(GatewayFixture.MailReplyDomain, GatewayFixture.MailFrom, key);
        var conversationId = Ulid.NewUlid().ToString();
        var reply = Kefu.Contracts.Email.MailTokens.ReplyLocalPart("acme", conversationId, key);
        Assert.Equal(new InboundAddress(InboundKind.Reply, "acme", conversationId), addresses.Classify(reply, GatewayFixture.MailReplyDomain));

        // Mail systems may change the case of a local part or a domain.
        Assert.Equal(InboundKind.Reply, addresses.Classify(reply.ToLowerInvariant(), GatewayFixture.MailReplyDomain.ToUpperInvariant()).Kind);
        Assert.Equal(InboundKind.None, addresses.Classify(reply, "reply.other.test").Kind);
        Assert.Equal(InboundKind.From, addresses.Classify("SUPPORT", GatewayFixture.MailReplyDomain).Kind);
        Assert.Equal(InboundKind.None, new InboundAddresses(null, null, []).Classify(reply, GatewayFixture.MailReplyDomain).Kind);
        Assert.Equal("support@acme.example", InboundAddresses.BareAddress("Acme Support <support@acme.example>"));
    }
}
