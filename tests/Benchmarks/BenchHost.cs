using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Kefu.Gateway.Hosting;
using Kefu.Grains.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kefu.Benchmarks;

/// <summary>
/// What the subcommand runs share: their arguments, a free loopback port, and one embedded silo or one embedded gateway
/// in this process.
/// </summary>
internal static class BenchHost
{
    /// <summary>The value after <paramref name="name"/> on the command line, or null.</summary>
    public static string? Arg(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// An embedded silo (the gateway's embedded mode without HTTP) on free ports, with no routing rules file, and
    /// <paramref name="settings"/> on top.
    /// </summary>
    public static async Task<IHost> StartSiloAsync(IReadOnlyDictionary<string, string?> settings, CancellationToken cancellationToken)
    {
        var all = new Dictionary<string, string?>
        {
            ["Kefu:Silo:SiloPort"] = FreePort().ToString(CultureInfo.InvariantCulture),
            ["Kefu:Silo:GatewayPort"] = FreePort().ToString(CultureInfo.InvariantCulture),
            ["Kefu:Routing:File"] = Path.Combine(Path.GetTempPath(), "kefu-bench-no-rules.yaml"),
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(all).Build();
        var host = Host.CreateDefaultBuilder()
            .ConfigureLogging(l => l.ClearProviders())
            .UseOrleans(silo => silo.AddKefu(configuration))
            .Build();
        await host.StartAsync(cancellationToken);
        return host;
    }

    /// <summary>The admin password of <see cref="StartGatewayAsync"/>'s gateways.</summary>
    public const string AdminPassword = "benchmark-admin-password";

    /// <summary>
    /// An embedded gateway (the default single-process mode) on a free loopback port, in Production, without logging,
    /// with <see cref="AdminPassword"/>, a fresh state file, no routing rules file, and <paramref name="settings"/> on top.
    /// </summary>
    public static async Task<WebApplication> StartGatewayAsync(string name, IReadOnlyDictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        var all = new Dictionary<string, string?>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["Kefu:Silo:SiloPort"] = FreePort().ToString(CultureInfo.InvariantCulture),
            ["Kefu:Silo:GatewayPort"] = FreePort().ToString(CultureInfo.InvariantCulture),
            ["Kefu:Bootstrap:AdminPassword"] = AdminPassword,
            ["Kefu:Auth:SigningKey"] = "benchmark-signing-key-that-is-long-enough-0123456789",
            ["Kefu:Embedded:StatePath"] = Path.Combine(Path.GetTempPath(), $"kefu-bench-{name}-{Guid.NewGuid():N}.json"),
            ["Kefu:Routing:File"] = Path.Combine(Path.GetTempPath(), "kefu-bench-no-rules.yaml"),
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(all);
        builder.Logging.ClearProviders();
        builder.AddKefuGateway();
        var app = builder.Build();
        app.MapKefuGateway();
        await app.StartAsync();
        return app;
    }
}
