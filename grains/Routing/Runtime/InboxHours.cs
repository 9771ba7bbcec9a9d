using Kefu.Contracts.Messages;

namespace Kefu.Grains.Routing.Runtime;

/// <summary>
/// The <c>business_hours</c> fact of a tenant's inboxes: an inbox without hours is always open (as for the away message),
/// an inbox the tenant does not have never is, and an inbox whose time zone this machine does not know counts as open.
/// </summary>
public sealed class InboxHours
{
    private readonly Dictionary<string, BusinessHours?> _inboxes;

    private InboxHours(Dictionary<string, BusinessHours?> inboxes) => _inboxes = inboxes;

    public static InboxHours Of(IEnumerable<InboxConfig> inboxes)
    {
        ArgumentNullException.ThrowIfNull(inboxes);
        return new InboxHours(inboxes.ToDictionary(i => i.InboxId, i => i.BusinessHours, StringComparer.Ordinal));
    }

    public bool IsOpen(string inbox, DateTimeOffset now)
    {
        if (!_inboxes.TryGetValue(inbox, out var hours))
        {
            return false;
        }

        try
        {
            return hours is null || hours.IsOpen(now);
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return true;
        }
    }
}
