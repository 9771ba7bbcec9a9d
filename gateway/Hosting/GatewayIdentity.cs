using System.Security.Cryptography;

namespace Kefu.Gateway.Hosting;

/// <summary>This gateway process's id: unique per start, so a restarted gateway never inherits a stale registration.</summary>
public sealed class GatewayIdentity
{
    public string Id { get; } = $"gw-{Environment.MachineName.ToLowerInvariant()}-{Environment.ProcessId}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
}

/// <summary>Ready once the admin account exists and this gateway's observer is registered with the cluster.</summary>
public sealed class GatewayReadiness
{
    private volatile bool _registered;
    private volatile bool _bootstrapped;

    public bool IsReady => _registered && _bootstrapped;

    public void Registered(bool ok) => _registered = ok;

    public void Bootstrapped() => _bootstrapped = true;
}
