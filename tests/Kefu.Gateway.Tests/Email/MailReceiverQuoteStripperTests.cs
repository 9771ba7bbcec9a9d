using System.Text;
using Kefu.Gateway.Email;
using MimeKit;

namespace Kefu.Gateway.Tests.Email;

/// <summary>The new text of a reply mail, from the way real mail programs quote (no cluster needed).</summary>
public sealed class MailReceiverQuoteStripperTests
{
    [Fact]
    public void Gmail_attribution_and_quoted_lines_are_cut()
    {
        const string mail = """
            Thanks, that fixed it!

            Ann

            On Mon, Dec 7, 2026 at 9:12 AM Kefu Support <reply+01JB0000000000000000000000.0123456789abcdef.acme@reply.acme.example> wrote:

            > Hello Ann,
            > please try restarting the router.
            """;
        Assert.Equal("Thanks, that fixed it!\n\nAnn", QuoteStripper.Strip(mail));
    }

    [Fact]
    public void An_attribution_wrapped_over_two_lines_is_found()
    {
        const string mail = "Yes please.\r\n\r\nOn Mon, Dec 7, 2026 at 9:12 AM Kefu Support <\r\nreply+01JB.abc.acme@reply.acme.example> wrote:\r\n> earlier\r\n";
        Assert.Equal("Yes please.", QuoteStripper.Strip(mail));
    }

    [Fact]
    public void Apple_mail_attribution_is_cut()
    {
        const string mail = """
            Tomorrow works.

            > On 7 Dec 2026, at 09:12, Kefu Support <support@acme.example> wrote:
            >
            > Can we call you?
            """;
        Assert.Equal("Tomorrow works.", QuoteStripper.Strip(mail));
        Assert.Equal("Tomorrow works.", QuoteStripper.Strip("Tomorrow works.\n\nOn 7 Dec 2026, at 09:12, Kefu Support <support@acme.example> wrote:\n\n> Can we call you?"));
    }

    [Fact]
    public void Outlook_header_blocks_are_cut()
    {
        const string web = """
            Works now, thank you.

            ________________________________
            From: Kefu Support <support@acme.example>
            Sent: Monday, December 7, 2026 9:12 AM
            To: Ann <ann@example.com>
            Subject: Re: Router
            """;
        Assert.Equal("Works now, thank you.", QuoteStripper.Strip(web));

        const string desktop = "Works now.\n\nFrom: Kefu Support [mailto:support@acme.example]\nSent: Monday, December 7, 2026 9:12 AM\nTo: Ann\nSubject: Re: Router\n\nHello Ann";
        Assert.Equal("Works now.", QuoteStripper.Strip(desktop));

        const string original = "See attached.\n\n-----Original Message-----\nFrom: Kefu Support\nHello";
        Assert.Equal("See attached.", QuoteStripper.Strip(original));
    }

    [Fact]
    public void Chinese_clients_are_cut_and_the_chinese_text_kept()
    {
        const string gmail = """
            好的，谢谢！明天上午十点可以。

            在 2026年12月7日周一 09:12，Kefu Support <reply+01JB.abc.acme@reply.acme.example> 写道：

            > 您好，请问什么时间方便？
            """;
        Assert.Equal("好的，谢谢！明天上午十点可以。", QuoteStripper.Strip(gmail));

        const string qq = """
            收到，我再试一下。


            ------------------ 原始邮件 ------------------
            发件人: "Kefu Support"<support@acme.example>;
            发送时间: 2026年12月7日(星期一) 上午9:12
            收件人: "Ann"<ann@example.com>;
            主题: Re: 路由器
            """;
        Assert.Equal("收到，我再试一下。", QuoteStripper.Strip(qq));

        const string foxmail = "已解决。\n\n发件人：Kefu Support\n发送时间：2026-12-07 09:12\n收件人：Ann\n主题：路由器\n\n您好";
        Assert.Equal("已解决。", QuoteStripper.Strip(foxmail));
    }

    [Fact]
    public void Interleaved_answers_keep_their_own_lines()
    {
        const string mail = "> Which model?\nThe X200.\n> Since when?\nSince Monday.\n";
        Assert.Equal("The X200.\nSince Monday.", QuoteStripper.Strip(mail));
    }

    [Fact]
    public void Text_that_only_looks_like_a_marker_is_kept_and_a_signature_is_cut()
    {
        const string mail = "On Monday I restarted it.\nMy colleague wrote: it is fine.\nFrom: my phone, sorry for typos.\n\n-- \nAnn Smith\nACME Ltd";
        Assert.Equal("On Monday I restarted it.\nMy colleague wrote: it is fine.\nFrom: my phone, sorry for typos.", QuoteStripper.Strip(mail));
        Assert.Equal("", QuoteStripper.Strip("> only a quote\n>\n"));
        Assert.Equal("", QuoteStripper.Strip(null));
    }

    [Fact]
    public void Html_becomes_text_without_the_quoted_history_or_scripts()
    {
        const string html = """
            <html><head><style>p { color: red }</style><title>Re: Router</title></head><body>
            <div dir="ltr">Thanks &amp; regards,<br>the router&nbsp;works <b>again</b>.<script>alert(1)</script></div>
            <p>Second   paragraph</p>
            <div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Mon, Dec 7, 2026 Kefu wrote:<br></div>
            <blockquote class="gmail_quote"><div>Please restart it.</div></blockquote></div>
            </body></html>
            """;
        Assert.Equal("Thanks & regards,\nthe router works again.\n\nSecond paragraph", HtmlText.ToText(html));
        Assert.Equal("a < b", HtmlText.ToText("<p>a &lt; b</p><blockquote>old<blockquote>older</blockquote>still old</blockquote>"));
    }

    [Fact]
    public void Outlook_and_thunderbird_html_end_where_the_history_starts()
    {
        const string outlookWeb = """
            <html><body><div style="font-family: Calibri">Fixed, thanks.</div>
            <hr style="display:inline-block;width:98%" tabindex="-1">
            <div id="divRplyFwdMsg" dir="ltr"><font face="Calibri"><b>From:</b> Kefu Support &lt;support@acme.example&gt;<br>
            <b>Sent:</b> Monday, December 7, 2026 9:12 AM<br><b>Subject:</b> Re: Router</font><div>&nbsp;</div></div>
            <div>Hello Ann, please restart it.</div></body></html>
            """;
        Assert.Equal("Fixed, thanks.", QuoteStripper.Strip(HtmlText.ToText(outlookWeb)));

        const string outlookDesktop = """
            <div class="WordSection1"><p class="MsoNormal">我已经重启了。</p><p class="MsoNormal">&nbsp;</p>
            <div style="border:none;border-top:solid #E1E1E1 1.0pt"><p class="MsoNormal"><b>发件人:</b> Kefu Support<br>
            <b>发送时间:</b> 2026年12月7日 9:12<br><b>主题:</b> 路由器</p></div><p class="MsoNormal">请重启。</p></div>
            """;
        Assert.Equal("我已经重启了。", QuoteStripper.Strip(HtmlText.ToText(outlookDesktop)));

        const string thunderbird = """
            <p>See you then.</p><div class="moz-cite-prefix">On 07/12/2026 09:12, Kefu Support wrote:<br></div>
            <blockquote type="cite">Shall we call?</blockquote><p>-- <br>Ann</p>
            """;
        Assert.Equal("See you then.", QuoteStripper.Strip(HtmlText.ToText(thunderbird)));
    }

    [Fact]
    public void The_plain_part_is_preferred_and_html_only_mail_is_read()
    {
        var alternative = new MimeMessage();
        alternative.Body = new MultipartAlternative
        {
            new TextPart("plain") { Text = "Plain answer.\n\nOn Mon, Kefu wrote:\n> old" },
            new TextPart("html") { Text = "<p>HTML answer.</p>" },
        };
        Assert.Equal("Plain answer.", ReplyText.Extract(alternative));

        var htmlOnly = new MimeMessage { Body = new TextPart("html") { Text = "<p>Only <i>HTML</i>.</p><blockquote>old</blockquote>" } };
        Assert.Equal("Only HTML.", ReplyText.Extract(htmlOnly));
    }

    [Fact]
    public void Chinese_in_a_legacy_charset_and_flowed_text_come_out_right()
    {
        // As a Chinese mail program sends it: GB18030 bytes, base64 (the bytes written out, so no encoder in the test).
        const string gbk = "From: Ann <ann@example.com>\r\nSubject: Re\r\nMIME-Version: 1.0\r\n"
            + "Content-Type: text/plain; charset=GB18030\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + "xPq6w6OsztK1xLaptaW7ucO709C1vaGjDQoNCtTaIDIwMjbE6jEy1MI3yNWjrEtlZnUg0LS1wKO6DQo+IMfrydS1yA0K\r\n";
        using var raw = new MemoryStream(Encoding.ASCII.GetBytes(gbk));
        Assert.Equal("您好，我的订单还没有到。", ReplyText.Extract(MimeMessage.Load(raw)));

        var flowed = new TextPart("plain") { Text = "This line was wrapped by the \nmail program.\n" };
        flowed.ContentType.Format = "flowed";
        Assert.Equal("This line was wrapped by the mail program.", ReplyText.Extract(new MimeMessage { Body = flowed }));
    }
}
