using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text.Json;
using Kefu.Gateway.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Kefu.Gateway.Tests.Infrastructure;

/// <summary>
/// The real gateway (Kestrel on a loopback port, embedded silo on free ports), started in this process exactly as
/// Program.cs starts it, with test configuration on top.
/// </summary>
public class GatewayFixture : IAsyncLifetime
{
    public const string AdminPassword = "test-admin-password";

    private WebApplication? _app;
    private ChatClient? _onDuty;
    private Task? _onDutyReader;

    /// <summary>
    /// Whether the default inbox is staffed: an agent stays online on it for the fixture's lifetime and the inbox
    /// assigns nobody by itself (manual). Chat tests then see what they did before the contact-centre model: no away
    /// message in the history, and the first agent to join a conversation takes it.
    /// </summary>
    protected virtual bool StaffDefaultInbox => true;

    public Uri BaseUri { get; private set; } = null!;

    /// <summary>The built-in mail receiver (gateway/Email) listens here on loopback, for reply and bounce mail.</summary>
    public int MailReceiverPort { get; } = FreePort();

    public const string MailReplyDomain = "reply.kefu.test";
    public const string MailFrom = "support@reply.kefu.test";
    public const string MailTokenKey = "test-mail-token-key-that-is-long-enough-0123456789";

    /// <summary>For fixtures that need more than settings (e.g. a log capture), before the gateway is added.</summary>
    protected virtual void ConfigureBuilder(WebApplicationBuilder builder)
    {
    }

    public Uri WebSocketUri => new UriBuilder(BaseUri) { Scheme = "ws", Path = "/ws" }.Uri;

    /// <summary>The HTTP status of a WebSocket upgrade with this token: 101 when accepted, else the refusal's status.</summary>
    public async Task<HttpStatusCode> WebSocketStatusAsync(string token)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        try
        {
            await socket.ConnectAsync(new Uri($"{WebSocketUri}?access_token={Uri.EscapeDataString(token)}"), CancellationToken.None);
            return HttpStatusCode.SwitchingProtocols;
        }
        catch (WebSocketException)
        {
            return socket.HttpStatusCode;
        }
    }

    protected virtual IDictionary<string, string?> Settings => new Dictionary<string, string?>();

    /// <summary>Services registered before the gateway's own (which are Try-added where a test may replace them).</summary>
    protected virtual void ConfigureServices(IServiceCollection services)
    {
    }

    /// <summary>The running gateway's services, for tests that look at its state (e.g. the connection registry).</summary>
    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException("The gateway has not started.");

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
            ["Kefu:RateLimits:RestPerMinute"] = "100000",
            ["Kefu:RateLimits:WidgetPerMinute"] = "100000",
            // Tests speak for several clients through X-Forwarded-For, as a reverse proxy on loopback would.
            ["Kefu:ForwardedHeaders:KnownProxies:0"] = "127.0.0.1",
            ["Kefu:Mail:Receiver:Port"] = MailReceiverPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Kefu:Mail:Receiver:MaxMessageBytes"] = "262144",
            ["Kefu:Mail:ReplyDomain"] = MailReplyDomain,
            ["Kefu:Mail:From"] = $"Kefu Support <{MailFrom}>",
            ["Kefu:Mail:TokenKey"] = MailTokenKey,
        };
        foreach (var (key, value) in Settings)
        {
            settings[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(settings);
        ConfigureServices(builder.Services);
        ConfigureBuilder(builder);
        builder.AddKefuGateway();
        _app = builder.Build();
        _app.MapKefuGateway();
        await _app.StartAsync();
        BaseUri = new Uri(_app.Urls.First());
        if (StaffDefaultInbox)
        {
            await StaffAsync();
        }
    }

    private async Task StaffAsync()
    {
        // From an address of its own (forwarded by loopback), so the tests' login budget of 127.0.0.1 stays whole.
        using var http = Http();
        http.DefaultRequestHeaders.Add("X-Forwarded-For", "198.51.100.77");
        using var admin = Http(await LoginAsync(http, "admin", AdminPassword));
        admin.DefaultRequestHeaders.Add("X-Forwarded-For", "198.51.100.77");
        var inbox = await admin.PutAsJsonAsync("/api/v1/inboxes/default", new { name = "Default", assignmentPolicy = "manual" });
        Assert.True(inbox.IsSuccessStatusCode, await inbox.Content.ReadAsStringAsync());
        var agent = await admin.PostAsJsonAsync("/api/v1/agents", new { username = "on-duty", password = "agent-password-1", displayName = "On duty" });
        Assert.Equal(HttpStatusCode.Created, agent.StatusCode);
        _onDuty = await ConnectAsync(await LoginAsync(http, "on-duty", "agent-password-1"));

        // Reading keeps the connection answering the server's pings; what it receives does not matter.
        _onDutyReader = Task.Run(_onDuty.DiscardUntilClosedAsync);
    }

    private static async Task<string> LoginAsync(HttpClient http, string username, string password)
    {
        var response = await http.PostAsJsonAsync("/api/v1/auth/login", new { username, password });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    public async Task DisposeAsync()
    {
        if (_onDuty is not null)
        {
            await _onDuty.DisposeAsync();
            await (_onDutyReader ?? Task.CompletedTask);
        }

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
