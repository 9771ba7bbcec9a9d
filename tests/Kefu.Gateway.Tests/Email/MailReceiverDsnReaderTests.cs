using System.Text;
using Kefu.Gateway.Email;
using MimeKit;

namespace Kefu.Gateway.Tests.Email;

/// <summary>Delivery status notifications (RFC 3464) as real servers write them: which ones are failures, and why.</summary>
public sealed class MailReceiverDsnReaderTests
{
    /// <summary>A Postfix bounce: multipart/report with the human part, the delivery status and the returned headers.</summary>
    public static string Dsn(string action, string status, string? diagnostic, string recipient = "ann@example.com") =>
        "From: MAILER-DAEMON@mx.example.com (Mail Delivery System)\r\n"
        + "To: bounce+01JB0000000000000000000000.0123456789abcdef.acme@reply.kefu.test\r\n"
        + "Subject: Undelivered Mail Returned to Sender\r\n"
        + "Message-ID: <20261207091200.ABC123@mx.example.com>\r\n"
        + "MIME-Version: 1.0\r\n"
        + "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B1\"\r\n\r\n"
        + "--B1\r\nContent-Description: Notification\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        + "This is the mail system at host mx.example.com.\r\n\r\nI'm sorry to have to inform you that your message could not\r\nbe delivered.\r\n\r\n"
        + "--B1\r\nContent-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n"
        + "Reporting-MTA: dns; mx.example.com\r\nX-Postfix-Queue-ID: ABC123\r\nArrival-Date: Mon,  7 Dec 2026 09:12:00 +0000 (UTC)\r\n\r\n"
        + $"Final-Recipient: rfc822; {recipient}\r\nOriginal-Recipient: rfc822;{recipient}\r\nAction: {action}\r\nStatus: {status}\r\n"
        + (diagnostic is null ? "" : $"Remote-MTA: dns; mail.example.com\r\nDiagnostic-Code: smtp; {diagnostic}\r\n")
        + "\r\n--B1\r\nContent-Description: Undelivered Message Headers\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        + "From: Kefu Support <support@reply.kefu.test>\r\nSubject: Your conversation\r\n\r\n--B1--\r\n";

    public static MimeMessage Parse(string raw)
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(raw));
        return MimeMessage.Load(stream);
    }

    [Fact]
    public void A_failed_delivery_is_a_bounce_with_the_remote_diagnostic()
    {
        var result = DsnReader.Read(Parse(Dsn("failed", "5.1.1", "550 5.1.1 <ann@example.com>: Recipient address rejected: User unknown in virtual mailbox table")));
        Assert.True(result.IsReport);
        Assert.True(result.Failed);
        Assert.Equal("ann@example.com: 550 5.1.1 <ann@example.com>: Recipient address rejected: User unknown in virtual mailbox table", result.Reason);
    }

    [Fact]
    public void Without_a_diagnostic_the_status_is_the_reason()
    {
        var result = DsnReader.Read(Parse(Dsn("failed", "5.2.2", null)));
        Assert.True(result.Failed);
        Assert.Equal("ann@example.com: 5.2.2 delivery failed", result.Reason);
    }

    [Fact]
    public void A_long_diagnostic_is_cut()
    {
        var result = DsnReader.Read(Parse(Dsn("failed", "5.7.1", "554 5.7.1 " + new string('x', 2000))));
        Assert.Equal(DsnReader.MaxReasonLength, result.Reason!.Length);
    }

    [Theory]
    [InlineData("delayed", "4.4.1")]
    [InlineData("delivered", "2.0.0")]
    [InlineData("relayed", "2.0.0")]
    public void Delays_and_successes_are_not_failures(string action, string status)
    {
        var result = DsnReader.Read(Parse(Dsn(action, status, "451 4.4.1 try later")));
        Assert.True(result.IsReport);
        Assert.False(result.Failed);
        Assert.Null(result.Reason);
    }

    [Fact]
    public void An_auto_reply_is_no_report()
    {
        var reply = Parse("From: ann@example.com\r\nSubject: Out of office\r\nContent-Type: text/plain\r\n\r\nI am away until Monday.\r\n");
        Assert.Same(DsnResult.NotAReport, DsnReader.Read(reply));
    }
}
