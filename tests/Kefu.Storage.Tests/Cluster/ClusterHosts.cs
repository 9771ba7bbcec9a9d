using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;

namespace Kefu.Storage.Tests.Cluster;

/// <summary>Cluster and service id of one test cluster: unique per test, so tests never see each other's rows.</summary>
public sealed record ClusterNames(string ClusterId, string ServiceId)
{
    public static ClusterNames New() =>
        new($"c-{Guid.NewGuid():N}"[..14], $"s-{Guid.NewGuid():N}"[..14]);
}

/// <summary>
/// The Orleans provider wiring of Kefu's cluster mode (ADO.NET clustering, grain storage "kefu" with the Orleans
/// binary serializer, ADO.NET reminders, all on MariaDB through MySqlConnector).
/// </summary>
public static class KefuOrleansWiring
{
    public const string Invariant = "MySql.Data.MySqlConnector";

    public const string StorageName = "kefu";

    public static void ConfigureSilo(ISiloBuilder silo, ClusterNames names, string connectionString)
    {
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = names.ClusterId;
            o.ServiceId = names.ServiceId;
        });
        silo.UseAdoNetClustering(o =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = connectionString;
        });
        silo.AddAdoNetGrainStorage(StorageName, ob => ob.Configure<Serializer>((o, serializer) =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = connectionString;
            o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
        }));
        silo.UseAdoNetReminderService(o =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = connectionString;
        });
    }

    public static void ConfigureClient(IClientBuilder client, ClusterNames names, string connectionString)
    {
        client.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = names.ClusterId;
            o.ServiceId = names.ServiceId;
        });
        client.UseAdoNetClustering(o =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = connectionString;
        });
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Orleans logs stay quiet unless KEFU_TEST_ORLEANS_LOGS is set (then warnings go to the console).</summary>
    public static void ConfigureTestLogging(ILoggingBuilder logging)
    {
        logging.ClearProviders();
        if (Environment.GetEnvironmentVariable("KEFU_TEST_ORLEANS_LOGS") is { Length: > 0 })
        {
            logging.AddConsole().SetMinimumLevel(LogLevel.Warning);
        }
    }
}

/// <summary>A real silo host on loopback ports, configured like Kefu's cluster mode.</summary>
public sealed class TestSilo : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly Lock _gate = new();
    private Task? _stopping;

    private TestSilo(IHost host, int siloPort, int gatewayPort)
    {
        _host = host;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
    }

    public int SiloPort { get; }

    public int GatewayPort { get; }

    public IServiceProvider Services => _host.Services;

    public SiloAddress Address => _host.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;

    public static async Task<TestSilo> StartAsync(
        ClusterNames names, string connectionString, Action<ISiloBuilder>? configure = null)
    {
        var siloPort = KefuOrleansWiring.FreePort();
        var gatewayPort = KefuOrleansWiring.FreePort();
        var host = Host.CreateDefaultBuilder()
            .ConfigureLogging(KefuOrleansWiring.ConfigureTestLogging)
            .UseOrleans(silo =>
            {
                KefuOrleansWiring.ConfigureSilo(silo, names, connectionString);
                silo.ConfigureEndpoints(IPAddress.Loopback, siloPort, gatewayPort);
                silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
                silo.Services.AddSingleton<StopSiloOnFatalError>();
                silo.Services.Replace(ServiceDescriptor.Singleton<IFatalErrorHandler>(
                    sp => sp.GetRequiredService<StopSiloOnFatalError>()));
                configure?.Invoke(silo);
            })
            .Build();
        try
        {
            await host.StartAsync();
        }
        catch
        {
            host.Dispose();
            throw;
        }

        var silo = new TestSilo(host, siloPort, gatewayPort);
        host.Services.GetRequiredService<StopSiloOnFatalError>().Stop = () => _ = silo.KillAsync();
        return silo;
    }

    /// <summary>Graceful shutdown: the silo leaves the membership table as Dead itself.</summary>
    public Task StopAsync() => StopOnceAsync(graceful: true);

    /// <summary>
    /// Ungraceful shutdown (an already cancelled token): no deactivations, no waiting. Orleans still tries to write
    /// its own Dead status, so a test that wants a silo to vanish must also cut its database access.
    /// </summary>
    public Task KillAsync() => StopOnceAsync(graceful: false);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            _host.Dispose();
        }
    }

    private Task StopOnceAsync(bool graceful)
    {
        lock (_gate)
        {
            return _stopping ??= Task.Run(() => graceful ? StopGracefullyAsync() : StopAbruptlyAsync());
        }
    }

    private async Task StopGracefullyAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _host.StopAsync(timeout.Token);
    }

    private async Task StopAbruptlyAsync()
    {
        try
        {
            await _host.StopAsync(new CancellationToken(canceled: true));
        }
        catch (OperationCanceledException)
        {
            // expected with a cancelled token
        }
    }
}

/// <summary>
/// Orleans answers a fatal error (e.g. "I have been declared dead") with Environment.FailFast, which would end the
/// whole test run. In tests the affected silo is stopped instead and the error is logged.
/// </summary>
public sealed class StopSiloOnFatalError(ILogger<StopSiloOnFatalError> logger) : IFatalErrorHandler
{
    public Action? Stop { get; set; }

    public bool IsUnexpected(Exception exception) => true;

    public void OnFatalException(object? sender = null, string? context = null, Exception? exception = null)
    {
        logger.LogError(exception, "Fatal Orleans error from {Sender}: {Context}. Stopping this test silo.", sender, context);
        Stop?.Invoke();
    }
}

/// <summary>A real Orleans client host that finds the gateways through the ADO.NET clustering table.</summary>
public sealed class TestClient : IAsyncDisposable
{
    private readonly IHost _host;

    private TestClient(IHost host) => _host = host;

    public IClusterClient Cluster => _host.Services.GetRequiredService<IClusterClient>();

    public IServiceProvider Services => _host.Services;

    public static async Task<TestClient> StartAsync(ClusterNames names, string connectionString)
    {
        var host = Host.CreateDefaultBuilder()
            .ConfigureLogging(KefuOrleansWiring.ConfigureTestLogging)
            .UseOrleansClient(client => KefuOrleansWiring.ConfigureClient(client, names, connectionString))
            .Build();
        try
        {
            await host.StartAsync();
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return new TestClient(host);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _host.StopAsync(timeout.Token);
        }
        finally
        {
            _host.Dispose();
        }
    }
}
