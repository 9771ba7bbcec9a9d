using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Kefu.Gateway.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace Kefu.Gateway.Tests.Infrastructure;

/// <summary>
/// The real gateway (Kestrel on a loopback port, embedded silo on free ports), started in this process exactly as
/// Program.cs starts it, with test configuration on top.
/// </summary>
public class GatewayFixture : IAsyncLifetime
{
    public const string AdminPassword = "test-admin-password";

    private WebApplication? _app;

    public Uri BaseUri { get; private set; } = null!;

    public Uri WebSocketUri => new UriBuilder(BaseUri) { Scheme = "ws", Path = "/ws" }.Uri;

    protected virtual IDictionary<string, string?> Settings => new Dictionary<string, string?>();

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        var settings = new Dictionary<string, string?>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["Kefu:Silo:SiloPort"] = FreePort().ToString(),
            ["Kefu:Silo:GatewayPort"] = FreePort().ToString(),
            ["Kefu:Bootstrap:AdminPassword"] = AdminPassword,
            ["Kefu:Auth:SigningKey"] = "test-signing-key-that-is-long-enough-0123456789",
            ["Logging:LogLevel:Default"] = "Warning",
            // Many tests log in and create visitors from 127.0.0.1 within a minute.
            ["Kefu:RateLimits:LoginsPerMinute"] = "100000",
            ["Kefu:RateLimits:VisitorsPerMinute"] = "100000",
            ["Kefu:RateLimits:WidgetPerMinute"] = "100000",
        };
        foreach (var (key, value) in Settings)
        {
            settings[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddKefuGateway();
        _app = builder.Build();
        _app.MapKefuGateway();
        await _app.StartAsync();
        BaseUri = new Uri(_app.Urls.First());
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    public HttpClient Http(string? token = null)
    {
        var http = new HttpClient { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return http;
    }

    public async Task<(string VisitorId, string Token)> CreateVisitorAsync(string name = "Visitor")
    {
        using var http = Http();
        var response = await http.PostAsJsonAsync("/api/v1/visitors", new { name });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (body.GetProperty("visitorId").GetString()!, body.GetProperty("token").GetString()!);
    }

    public async Task<string> LoginAsync(string username = "admin", string password = AdminPassword)
    {
        using var http = Http();
        var response = await http.PostAsJsonAsync("/api/v1/auth/login", new { username, password });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.GetProperty("token").GetString()!;
    }

    /// <summary>Creates a non-admin agent (through the admin API) and returns its token.</summary>
    public async Task<(string AgentId, string Token)> CreateAgentAsync(string? agentId = null)
    {
        agentId ??= $"agent-{Guid.NewGuid():N}"[..20];
        using var admin = Http(await LoginAsync());
        var response = await admin.PostAsJsonAsync("/api/v1/agents", new { username = agentId, password = "agent-password-1", displayName = "Agent " + agentId });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (agentId, await LoginAsync(agentId, "agent-password-1"));
    }

    public Task<ChatClient> ConnectAsync(string token) => ChatClient.ConnectAsync(WebSocketUri, token);

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
