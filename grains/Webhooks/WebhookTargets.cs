using System.Net;
using System.Net.Sockets;
using Kefu.Contracts.Messages;

namespace Kefu.Grains.Webhooks;

/// <summary>
/// The SSRF guard (INTEGRATION.md §5): a webhook may not reach the cluster's own network. Checked twice: the URL when an
/// endpoint is saved (a private literal address or <c>localhost</c> is refused at once), and every address a host name
/// resolves to at connection time (<see cref="ConnectAsync"/>), so a name that later resolves inward (DNS rebinding) is
/// refused too. Redirects are never followed, so a public target cannot bounce a request inward either.
/// </summary>
public static class WebhookTargets
{
    /// <summary>The problem code of a refused target.</summary>
    public const string PrivateTarget = "private_target";

    public static KefuError? CheckUrl(string? url, bool allowPrivate)
    {
        if (string.IsNullOrWhiteSpace(url) || url.Length > WebhookRules.MaxUrlLength
            || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.UserInfo.Length > 0)
        {
            return KefuError.Invalid($"url must be an absolute http or https URL without credentials, at most {WebhookRules.MaxUrlLength} characters.");
        }

        if (allowPrivate)
        {
            return null;
        }

        var host = uri.IdnHost;
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host, out var address) && !IsPublic(address)))
        {
            return new KefuError(PrivateTarget, "url points to a private, loopback or link-local address, which webhooks may not reach.");
        }

        return null;
    }

    /// <summary>False for loopback, private, link-local, carrier-grade NAT, multicast, unspecified and reserved addresses.</summary>
    public static bool IsPublic(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address))
        {
            return false;
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return !(b[0] is 0 or 10 or 127 or >= 224
                || (b[0] == 169 && b[1] == 254)
                || (b[0] == 172 && b[1] is >= 16 and <= 31)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 100 && b[1] is >= 64 and <= 127)
                || (b[0] == 192 && b[1] == 0 && b[2] == 0));
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var b = address.GetAddressBytes();
            return !(address.Equals(IPAddress.IPv6None) || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast
                || (b[0] & 0xfe) == 0xfc); // fc00::/7, unique local
        }

        return false;
    }

    /// <summary>
    /// The <see cref="SocketsHttpHandler.ConnectCallback"/>: resolves the host, refuses it when any address is not public
    /// (unless allowed), and connects to the checked address (not a second resolution).
    /// </summary>
    public static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, bool allowPrivate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        if (addresses.Length == 0)
        {
            throw new HttpRequestException($"The webhook host {host} has no address.");
        }

        if (!allowPrivate && addresses.Any(a => !IsPublic(a)))
        {
            throw new PrivateTargetException(host);
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

/// <summary>A webhook target resolved to an address webhooks may not reach.</summary>
public sealed class PrivateTargetException(string host)
    : HttpRequestException($"The webhook host {host} resolves to a private, loopback or link-local address, which webhooks may not reach.");
