using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Kefu.Gateway.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace Kefu.Browser.Tests.Infrastructure;

/// <summary>
/// The real gateway (Kestrel on a loopback port, embedded silo), started in this process as Program.cs starts it, and
/// one headless Chromium driven by Playwright. Chromium is the system's (<c>/usr/bin/chromium</c>, or
/// <c>KEFU_CHROMIUM</c>); Playwright never downloads a browser. Without Chromium every test fails: browser tests that
/// cannot run must not pass silently.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string AdminPassword = "browser-admin-password";

    private WebApplication? _app;
    private IPlaywright? _playwright;

    public Uri BaseUri { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>The CRM the default tenant syncs contacts to (<c>sales</c>): it takes everything unless a test scripts it.</summary>
    public Kefu.Grains.Tests.Crm.FakeCrm Crm { get; private set; } = null!;

    /// <summary>The SMTP server the gateway sends mail to (docs/email.md): a capture server on loopback.</summary>
    public Kefu.Gateway.Tests.Email.MailSink Mail { get; } = Kefu.Gateway.Tests.Email.MailSink.Start();

    /// <summary>The gateway's built-in receiver of reply mail (docs/email-inbound.md): where a visitor's answer by email goes.</summary>
    public int MailReceiverPort { get; } = FreePort();

    /// <summary>Where screenshots go: under the test output directory (a test artifact).</summary>
    public static string ArtifactsDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "artifacts");

    public static string ChromiumPath => Environment.GetEnvironmentVariable("KEFU_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException(
                $"Chromium is required for the browser tests and was not found at {ChromiumPath}. Install it with " +
                "'apt-get install -y chromium' (scripts/test.sh does) or set KEFU_CHROMIUM to its path.");
        }

        Directory.CreateDirectory(ArtifactsDirectory);
        Crm = await Kefu.Grains.Tests.Crm.FakeCrm.StartAsync();
        Crm.For("sales");
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["Kefu:Silo:SiloPort"] = FreePort().ToString(),
            ["Kefu:Silo:GatewayPort"] = FreePort().ToString(),
            ["Kefu:Bootstrap:AdminPassword"] = AdminPassword,
            ["Kefu:Auth:SigningKey"] = "browser-test-signing-key-that-is-long-enough-0123456789",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Kefu:RateLimits:LoginsPerMinute"] = "100000",
            ["Kefu:RateLimits:VisitorsPerMinute"] = "100000",
            ["Kefu:RateLimits:RestPerMinute"] = "100000",
            // The webhooks page test posts to a receiver on loopback.
            ["Kefu:Webhooks:AllowPrivateTargets"] = "true",
            ["Kefu:Webhooks:RetrySchedule"] = "500ms,500ms,500ms",
            // The contact panel's CRM badge (issue #17).
            ["Kefu:Crm:PollInterval"] = "00:00:00.200",
            ["Kefu:Mail:Smtp:Host"] = "127.0.0.1",
            ["Kefu:Mail:Smtp:Port"] = Mail.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Kefu:Mail:Smtp:Security"] = "none",
            ["Kefu:Mail:From"] = "Kefu <support@kefu.test>",
            ["Kefu:Mail:ReplyDomain"] = "reply.kefu.test",
            ["Kefu:Mail:TokenKey"] = "browser-mail-token-key-0123456789abcdef",
            ["Kefu:Mail:OfflineReplyAfter"] = "00:00:00.500",
            ["Kefu:Mail:PollInterval"] = "00:00:00.200",
            ["Kefu:Mail:Receiver:Port"] = MailReceiverPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Kefu:Crm:Connectors:sales:BaseUrl"] = new Uri(Crm.BaseUrl, "sales").ToString(),
            ["Kefu:Crm:Connectors:sales:Retry:BaseDelay"] = "00:00:00.200",
            ["Kefu:Crm:Connectors:sales:Retry:MaxDelay"] = "00:00:00.500",
            ["Kefu:Crm:Connectors:sales:Contacts:Upsert:Path"] = "/contacts/{id}",
            ["Kefu:Crm:Connectors:sales:Contacts:Get:Path"] = "/contacts/{id}",
            ["Kefu:Crm:Connectors:sales:Contacts:Fields:name"] = "name",
            ["Kefu:Crm:Connectors:sales:Contacts:Fields:email"] = "email",
        });
        builder.AddKefuGateway();
        _app = builder.Build();
        _app.MapKefuGateway();
        await _app.StartAsync();
        BaseUri = new Uri(_app.Urls.First());
        await WaitUntilReadyAsync();

        // The machine running the tests may be busy (CI, parallel builds): generous waits, failing only when it never happens.
        SetDefaultExpectTimeout(15_000);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        if (Crm is not null)
        {
            await Crm.DisposeAsync();
        }

        await Mail.DisposeAsync();
    }

    /// <summary>A fresh browser profile (its own storage, cookies and network switch), like a separate person.</summary>
    public async Task<IBrowserContext> NewContextAsync(string locale = "en-US")
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BaseUri.ToString(),
            Locale = locale,
            ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
        });
        context.SetDefaultTimeout(15_000);
        // What the pages complain about (console errors and warnings, uncaught exceptions) goes to artifacts/browser.log for diagnosis.
        context.Page += (_, page) =>
        {
            page.Console += (_, message) =>
            {
                if (message.Type is "error" or "warning")
                {
                    Log($"{page.Url} console.{message.Type}: {message.Text}");
                }
            };
            page.PageError += (_, error) => Log($"{page.Url} page error: {error}");
        };
        return context;
    }

    public const string AgentPassword = "agent-password-1";

    private static readonly Lock LogLock = new();

    public static void Log(string line)
    {
        lock (LogLock)
        {
            File.AppendAllText(Path.Combine(ArtifactsDirectory, "browser.log"), $"{DateTime.UtcNow:HH:mm:ss.fff} {line}\n");
        }
    }

    /// <summary>
    /// A new agent (through the admin API) with room for many conversations, so conversations left by other tests
    /// never fill its slots.
    /// </summary>
    public async Task<string> CreateAgentAsync(string displayName = "Mei", int capacity = 50)
    {
        var agentId = $"agent-{Guid.NewGuid():N}"[..18];
        using var http = await AdminHttpAsync();
        var response = await http.PostAsJsonAsync("/api/v1/agents", new { username = agentId, password = AgentPassword, displayName, capacity });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return agentId;
    }

    /// <summary>A new team (through the admin API) with these members; its id.</summary>
    public async Task<string> CreateTeamAsync(string name, params string[] agentIds)
    {
        var teamId = $"team-{Guid.NewGuid():N}"[..13];
        using var http = await AdminHttpAsync();
        var response = await http.PutAsJsonAsync($"/api/v1/teams/{teamId}", new { name, agentIds });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return teamId;
    }

    public async Task<HttpClient> AdminHttpAsync()
    {
        var http = new HttpClient { BaseAddress = BaseUri };
        var login = await http.PostAsJsonAsync("/api/v1/auth/login", new { username = "admin", password = AdminPassword });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var token = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    private async Task WaitUntilReadyAsync()
    {
        using var http = new HttpClient { BaseAddress = BaseUri };
        for (var i = 0; i < 300; i++)
        {
            if ((await http.GetAsync("/readyz")).IsSuccessStatusCode)
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("The gateway did not become ready.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}
