using Kefu.Contracts.Messages;

namespace Kefu.Grains.Routing.Runtime;

/// <summary>
/// The <c>business_hours</c> fact of a tenant's inboxes, as the away message sees it: an inbox without hours — or without
/// any configuration, like a tenant's untouched default inbox — is always open, and so is one whose time zone this
/// machine does not know.
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
        var hours = _inboxes.GetValueOrDefault(inbox);
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
