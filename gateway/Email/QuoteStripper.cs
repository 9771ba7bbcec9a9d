using System.Text;
using System.Text.RegularExpressions;

namespace Kefu.Gateway.Email;

/// <summary>
/// The new text of a reply mail: everything the visitor's mail program quoted from earlier mails is cut, so the
/// conversation shows what the visitor wrote and not the whole thread again. Mail programs mark the start of the quoted
/// history differently; the patterns here are the ones real clients write (Gmail, Apple Mail, Thunderbird, Outlook,
/// QQ Mail, Foxmail, in English and Chinese). A line is only cut when it looks like such a marker, so a reply that
/// merely mentions "wrote:" keeps its text.
/// </summary>
public static partial class QuoteStripper
{
    /// <summary>How many lines an attribution ("On … wrote:", "在 … 写道：") may be wrapped over by the sending client.</summary>
    private const int AttributionLines = 3;

    public static string Strip(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return "";
        }

        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n').Split('\n');
        var end = HistoryStart(lines);
        var kept = new StringBuilder();
        var blankRun = 0;
        for (var i = 0; i < end; i++)
        {
            var line = lines[i].TrimEnd();

            // Interleaved answers keep their own lines; the quoted lines between them go.
            if (line.StartsWith('>'))
            {
                continue;
            }

            if (line.Length == 0)
            {
                blankRun++;
                continue;
            }

            if (kept.Length > 0)
            {
                kept.Append(blankRun > 0 ? "\n\n" : "\n");
            }

            blankRun = 0;
            kept.Append(line);
        }

        return kept.ToString().Trim();
    }

    /// <summary>The index of the first line of quoted history (or the signature), or the line count when there is none.</summary>
    private static int HistoryStart(string[] lines)
    {
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0)
            {
                continue;
            }

            // "-- " alone on a line starts a signature (RFC 3676); nothing after it is the visitor's answer.
            if (lines[i].TrimEnd('\r') == "-- " || OriginalMessage().IsMatch(line) || OutlookRule().IsMatch(line))
            {
                return i;
            }

            if (IsAttribution(lines, i) || IsHeaderBlock(lines, i))
            {
                return i;
            }
        }

        return lines.Length;
    }

    /// <summary>"On Mon, 7 Dec 2026 at 09:00, Kefu &lt;reply+…&gt; wrote:" or "在 2026年12月7日 09:00，Kefu 写道：", possibly wrapped.</summary>
    private static bool IsAttribution(string[] lines, int start)
    {
        var first = lines[start].Trim();
        var english = first.StartsWith("On ", StringComparison.Ordinal);
        var chinese = first.StartsWith('在');
        if (!english && !chinese)
        {
            return false;
        }

        var joined = new StringBuilder();
        for (var i = start; i < Math.Min(lines.Length, start + AttributionLines); i++)
        {
            joined.Append(' ').Append(lines[i].Trim());
            var text = joined.ToString().TrimEnd();
            if (english ? text.EndsWith("wrote:", StringComparison.Ordinal) : ChineseWrote().IsMatch(text))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Outlook and Foxmail put the original's headers under the answer: "From: …" then "Sent: …"/"Date: …" (or
    /// "发件人: …" then "发送时间: …"/"日期: …") within the next lines.
    /// </summary>
    private static bool IsHeaderBlock(string[] lines, int start)
    {
        if (!FromHeader().IsMatch(lines[start].Trim()))
        {
            return false;
        }

        for (var i = start + 1; i < Math.Min(lines.Length, start + 5); i++)
        {
            if (SentHeader().IsMatch(lines[i].Trim()))
            {
                return true;
            }
        }

        return false;
    }

    // "-----Original Message-----", "-----原始邮件-----", QQ Mail's "------------------ 原始邮件 ------------------",
    // "---------- Forwarded message ---------" is not history but a forward: kept.
    [GeneratedRegex(@"^-{2,}\s*(Original Message|原始邮件|原邮件|回复的原邮件)\s*-{2,}$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex OriginalMessage();

    // Outlook's line above the header block.
    [GeneratedRegex(@"^_{20,}$")]
    private static partial Regex OutlookRule();

    [GeneratedRegex(@"写道[：:]$")]
    private static partial Regex ChineseWrote();

    [GeneratedRegex(@"^\*?(From|发件人)\*?\s*[:：]", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex FromHeader();

    [GeneratedRegex(@"^\*?(Sent|Date|发送时间|日期|时间)\*?\s*[:：]", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SentHeader();
}
