using MimeKit;

namespace Kefu.Gateway.Email;

/// <summary>What a mail to a bounce address says: a delivery status notification (RFC 3464) or not, and whether it failed.</summary>
/// <param name="IsReport">It carries a delivery-status part.</param>
/// <param name="Failed">At least one recipient's action is "failed" (delayed, delivered, relayed and expanded are not failures).</param>
/// <param name="Reason">For a failure: the remote server's diagnostic (or the status code), for the outbound mail's record.</param>
public sealed record DsnResult(bool IsReport, bool Failed, string? Reason)
{
    public static readonly DsnResult NotAReport = new(false, false, null);
}

/// <summary>
/// Reads delivery status notifications with MimeKit's <see cref="MessageDeliveryStatus"/>: the first status group is
/// about the message, each further one about a recipient (Action, Status, Diagnostic-Code, Final-Recipient).
/// </summary>
public static class DsnReader
{
    /// <summary>The reason kept on the outbound mail: enough for an agent to see why, not a whole transcript.</summary>
    public const int MaxReasonLength = 500;

    public static DsnResult Read(MimeMessage message)
    {
        var statuses = message.BodyParts.OfType<MessageDeliveryStatus>().ToList();
        if (statuses.Count == 0)
        {
            return DsnResult.NotAReport;
        }

        foreach (var status in statuses)
        {
            foreach (var group in status.StatusGroups.Skip(1))
            {
                if (!string.Equals(group["Action"]?.Trim(), "failed", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                return new DsnResult(true, true, Reason(group));
            }
        }

        return new DsnResult(true, false, null);
    }

    private static string Reason(HeaderList group)
    {
        var recipient = StripType(group["Final-Recipient"] ?? group["Original-Recipient"]);
        var status = group["Status"]?.Trim();
        var diagnostic = StripType(group["Diagnostic-Code"]);
        var reason = (diagnostic, status) switch
        {
            ({ Length: > 0 }, { Length: > 0 }) when !diagnostic.Contains(status, StringComparison.Ordinal) => $"{status} {diagnostic}",
            ({ Length: > 0 }, _) => diagnostic,
            (_, { Length: > 0 }) => $"{status} delivery failed",
            _ => "delivery failed",
        };
        if (recipient is { Length: > 0 })
        {
            reason = $"{recipient}: {reason}";
        }

        // Folded header lines arrive with their line breaks.
        reason = string.Join(' ', reason.Split((char[])['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries).Select(p => p.Trim()));
        return reason.Length <= MaxReasonLength ? reason : reason[..MaxReasonLength];
    }

    /// <summary>"rfc822; ann@example.com" → "ann@example.com", "smtp; 550 5.1.1 …" → "550 5.1.1 …".</summary>
    private static string? StripType(string? value)
    {
        if (value is null)
        {
            return null;
        }

        var semicolon = value.IndexOf(';', StringComparison.Ordinal);
        return (semicolon >= 0 ? value[(semicolon + 1)..] : value).Trim();
    }
}
