using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Gateway.Tests.Infrastructure;
using Kefu.Grains.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace Kefu.Cluster.Tests.Infrastructure;

/// <summary>
/// A real cluster on this machine: its own MariaDB, silo processes and a gateway process in cluster mode (all
/// finding each other through the MySQL membership table), plus an Orleans client for looking inside.
/// </summary>
public sealed class KefuTestCluster : IAsyncDisposable
{
    public const string AdminPassword = "cluster-admin-password";

    private readonly Dictionary<string, string> _settings;
    private IHost? _client;

    private KefuTestCluster(MariaDbServer database)
    {
        Database = database;
        var clusterId = $"kefu-{Guid.NewGuid():N}"[..16];
        _settings = new Dictionary<string, string>
        {
            ["ConnectionStrings:kefu"] = database.ConnectionString,
            ["Kefu:Silo:ClusterId"] = clusterId,
            ["Kefu:Silo:ServiceId"] = clusterId,
            ["Kefu:Auth:SigningKey"] = "cluster-test-signing-key-0123456789-abcdefghij",
            ["Kefu:Bootstrap:AdminPassword"] = AdminPassword,
            ["Kefu:Presence:HeartbeatInterval"] = "00:00:02",
            ["Kefu:Presence:Expiry"] = "00:00:06",
            // Declare a killed silo dead within seconds, not the production default.
            ["Kefu:Membership:ProbeTimeout"] = "00:00:01",
            ["Kefu:Membership:NumMissedProbesLimit"] = "2",
            ["Kefu:Membership:NumVotesForDeathDeclaration"] = "1",
            ["Kefu:Membership:TableRefreshTimeout"] = "00:00:02",
            ["Logging:LogLevel:Default"] = "Warning",
        };
    }

    public MariaDbServer Database { get; }

    /// <summary>What every process of the cluster is configured with (database, cluster and service ids, …).</summary>
    public IReadOnlyDictionary<string, string> Settings => _settings;

    public List<(KefuProcess Process, int SiloPort)> Silos { get; } = [];

    public KefuProcess? Gateway { get; private set; }

    public Uri WebSocketUri => new UriBuilder(Gateway!.Http) { Scheme = "ws", Path = "/ws" }.Uri;

    /// <param name="settings">Configuration for every process on top of the cluster's own (e.g. a test's short schedules).</param>
    public static async Task<KefuTestCluster> StartAsync(int silos, IReadOnlyDictionary<string, string>? settings = null)
    {
        var cluster = new KefuTestCluster(await MariaDbServer.StartAsync());
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            cluster._settings[key] = value;
        }

        for (var i = 0; i < silos; i++)
        {
            await cluster.StartSiloAsync();
        }

        await cluster.StartGatewayAsync();
        return cluster;
    }

    public async Task StartSiloAsync()
    {
        var siloPort = KefuProcess.FreePort();
        var settings = new Dictionary<string, string>(_settings)
        {
            ["Kefu:Silo:SiloPort"] = siloPort.ToString(),
            ["Kefu:Silo:GatewayPort"] = KefuProcess.FreePort().ToString(),
        };
        var silo = KefuProcess.Start($"silo-{Silos.Count + 1}", "silo", settings, KefuProcess.FreePort());
        Silos.Add((silo, siloPort));
        await silo.WaitReadyAsync("/healthz", TimeSpan.FromSeconds(60));
    }

    public async Task StartGatewayAsync()
    {
        Gateway = KefuProcess.Start("gateway", "gateway", _settings, KefuProcess.FreePort());
        await Gateway.WaitReadyAsync("/readyz", TimeSpan.FromSeconds(90));
    }

    /// <summary>Stops every process gracefully (SIGTERM), the database stays.</summary>
    public async Task StopProcessesAsync()
    {
        if (Gateway is not null)
        {
            await Gateway.StopAsync(TimeSpan.FromSeconds(20));
            await Gateway.DisposeAsync();
            Gateway = null;
        }

        foreach (var (silo, _) in Silos)
        {
            await silo.StopAsync(TimeSpan.FromSeconds(30));
            await silo.DisposeAsync();
        }

        Silos.Clear();
        if (_client is not null)
        {
            await _client.StopAsync();
            _client.Dispose();
            _client = null;
        }
    }

    /// <summary>The silo process that currently hosts the grain.</summary>
    public async Task<KefuProcess> SiloHostingAsync(string conversationId)
    {
        var client = await ClientAsync();
        var management = client.GetGrain<IManagementGrain>(0);
        var grain = client.GetGrain<IConversationGrain>(Tenancy.Key(Tenancy.DefaultTenant, conversationId));
        var address = await management.GetActivationAddress(grain) ?? throw new InvalidOperationException("The conversation is not active.");
        return Silos.Single(s => s.SiloPort == address.Endpoint.Port).Process;
    }

    /// <summary>The silo process that currently hosts a grain with a string key (activating it if needed).</summary>
    public async Task<KefuProcess> SiloHostingAsync<TGrain>(string key)
        where TGrain : IGrainWithStringKey
    {
        var client = await ClientAsync();
        var address = await client.GetGrain<IManagementGrain>(0).GetActivationAddress(client.GetGrain<TGrain>(key))
            ?? throw new InvalidOperationException($"{typeof(TGrain).Name} {key} is not active.");
        return Silos.Single(s => s.SiloPort == address.Endpoint.Port).Process;
    }

    public HttpClient Http(string? token = null)
    {
        var http = new HttpClient { BaseAddress = Gateway!.Http, Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null)
        {
            http.DefaultRequestHeaders.Authorization = new("Bearer", token);
        }

        return http;
    }

    public async Task<(string VisitorId, string Token)> CreateVisitorAsync()
    {
        using var http = Http();
        var body = await (await http.PostAsJsonAsync("/api/v1/visitors", new { name = "Visitor" })).EnsureSuccessStatusCode()
            .Content.ReadFromJsonAsync<JsonElement>();
        return (body.Str("visitorId")!, body.Str("token")!);
    }

    public async Task<string> LoginAsync(string username = "admin", string password = AdminPassword)
    {
        using var http = Http();
        var response = await http.PostAsJsonAsync("/api/v1/auth/login", new { username, password });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).Str("token")!;
    }

    public Task<ChatClient> ConnectAsync(string token) => ChatClient.ConnectAsync(WebSocketUri, token);

    public async ValueTask DisposeAsync()
    {
        await StopProcessesAsync();
        await Database.DisposeAsync();
    }

    /// <summary>An Orleans client of the cluster (started on first use, stopped with the processes).</summary>
    public async Task<IClusterClient> ClientAsync()
    {
        if (_client is null)
        {
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(_settings!).Build();
            _client = Host.CreateDefaultBuilder()
                .ConfigureLogging(l => l.ClearProviders())
                .UseOrleansClient(c => c.AddKefuClient(configuration))
                .Build();
            await _client.StartAsync();
        }

        return _client.Services.GetRequiredService<IClusterClient>();
    }
}
