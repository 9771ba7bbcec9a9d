using System.Text;
using MimeKit.Text;

namespace Kefu.Gateway.Email;

/// <summary>
/// The readable text of an HTML-only mail (MimeKit's tokenizer, which decodes entities): block elements become line
/// breaks, scripts and styles vanish, quoted <c>&lt;blockquote&gt;</c>s are left out, and the text ends where a client's
/// quoted-history container starts (Gmail's <c>gmail_quote</c>, Outlook's <c>divRplyFwdMsg</c>, …); the text rules of
/// <see cref="QuoteStripper"/> catch the rest.
/// The result is plain text: the console shows it with textContent like any message.
/// </summary>
public static class HtmlText
{
    private static readonly HashSet<string> Hidden = new(StringComparer.OrdinalIgnoreCase) { "head", "title", "script", "style", "blockquote", "template" };

    private static readonly HashSet<string> Blocks = new(StringComparer.OrdinalIgnoreCase)
    {
        "p", "div", "br", "li", "tr", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "pre", "section", "article", "header", "footer",
    };

    /// <summary>Where some clients start the quoted history (Gmail, Yahoo, Outlook on the web, Thunderbird).</summary>
    private static readonly string[] QuoteContainers = ["gmail_quote", "yahoo_quoted", "divRplyFwdMsg", "moz-cite-prefix"];

    public static string ToText(string? html)
    {
        if (string.IsNullOrEmpty(html))
        {
            return "";
        }

        var text = new StringBuilder();
        var tokenizer = new HtmlTokenizer(new StringReader(html));
        string? skipping = null; // the element whose content is left out, and how deeply it nests in itself
        var skipDepth = 0;
        var pre = 0;
        while (tokenizer.ReadNextToken(out var token))
        {
            switch (token)
            {
                case HtmlTagToken tag when skipping is not null:
                    if (string.Equals(tag.Name, skipping, StringComparison.OrdinalIgnoreCase) && !tag.IsEmptyElement)
                    {
                        skipDepth += tag.IsEndTag ? -1 : 1;
                        if (skipDepth == 0)
                        {
                            skipping = null;
                        }
                    }

                    break;
                case HtmlTagToken tag when !tag.IsEndTag && IsQuoteContainer(tag):
                    // Everything from here on is history: Outlook puts the quoted mail after its header block, not inside it.
                    return Tidy(text);
                case HtmlTagToken tag when !tag.IsEndTag && !tag.IsEmptyElement && Hidden.Contains(tag.Name):
                    skipping = tag.Name;
                    skipDepth = 1;
                    break;
                case HtmlTagToken tag:
                    if (tag.Name.Equals("pre", StringComparison.OrdinalIgnoreCase))
                    {
                        pre = Math.Max(0, pre + (tag.IsEndTag ? -1 : 1));
                    }

                    if (Blocks.Contains(tag.Name))
                    {
                        text.Append('\n');
                    }

                    break;
                case HtmlDataToken data when skipping is null && data.Kind == HtmlTokenKind.Data:
                    AppendData(text, data.Data, pre > 0);
                    break;
            }
        }

        return Tidy(text);
    }

    /// <summary>Lines trimmed, runs of empty lines cut to one.</summary>
    private static string Tidy(StringBuilder text)
    {
        var lines = text.ToString().Split('\n').Select(l => l.Trim());
        var result = new StringBuilder();
        var blank = false;
        foreach (var line in lines)
        {
            if (line.Length == 0)
            {
                blank = result.Length > 0;
                continue;
            }

            if (result.Length > 0)
            {
                result.Append(blank ? "\n\n" : "\n");
            }

            blank = false;
            result.Append(line);
        }

        return result.ToString();
    }

    private static bool IsQuoteContainer(HtmlTagToken tag) =>
        tag.Attributes.Any(a =>
            (a.Name.Equals("class", StringComparison.OrdinalIgnoreCase) || a.Name.Equals("id", StringComparison.OrdinalIgnoreCase))
            && a.Value is { } value
            && QuoteContainers.Any(q => value.Contains(q, StringComparison.OrdinalIgnoreCase)));

    /// <summary>HTML whitespace collapses to one space (outside &lt;pre&gt;); non-breaking spaces count as spaces.</summary>
    private static void AppendData(StringBuilder text, string data, bool preformatted)
    {
        if (preformatted)
        {
            text.Append(data.Replace('\u00a0', ' '));
            return;
        }

        foreach (var c in data)
        {
            if (char.IsWhiteSpace(c) || c == '\u00a0')
            {
                if (text.Length > 0 && text[^1] is not (' ' or '\n'))
                {
                    text.Append(' ');
                }
            }
            else
            {
                text.Append(c);
            }
        }
    }
}
