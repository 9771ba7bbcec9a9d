using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests;

/// <summary>
/// Issue #11 item 7: the embedded default keeps its admin password, the default inbox's public key and its signing
/// key across restarts, in a small state file (mode 0600).
/// </summary>
public sealed class EmbeddedRestartTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kefu-state-").FullName;

    private string StatePath => Path.Combine(_directory, "state.json");

    [Fact]
    public async Task A_restart_keeps_the_admin_password_the_default_inbox_key_and_earlier_tokens()
    {
        string password, token, publicKey;
        await using (var first = await GatewayProcess.StartAsync(StatePath))
        {
            password = first.PrintedPassword ?? throw new InvalidOperationException("no password printed:\n" + first.Output);
            using var http = new HttpClient { BaseAddress = new Uri(first.Address) };
            token = await LoginAsync(http, password);
            publicKey = await DefaultInboxKeyAsync(http, token);
        }

        Assert.True(File.Exists(StatePath));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(StatePath));
        }

        await using var second = await GatewayProcess.StartAsync(StatePath);
        Assert.Null(second.PrintedPassword);
        using var again = new HttpClient { BaseAddress = new Uri(second.Address) };

        // The first run's token still works, and so does its password.
        Assert.Equal(publicKey, await DefaultInboxKeyAsync(again, token));
        await LoginAsync(again, password);

        // The snippet pasted after the first run still finds its inbox.
        Assert.Equal(HttpStatusCode.OK, (await again.GetAsync($"/api/v1/widget/{publicKey}")).StatusCode);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static async Task<string> LoginAsync(HttpClient http, string password)
    {
        var login = await http.PostAsJsonAsync("/api/v1/auth/login", new { username = "admin", password });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        return (await login.Content.ReadFromJsonAsync<JsonElement>()).Str("token")!;
    }

    private static async Task<string> DefaultInboxKeyAsync(HttpClient http, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/inboxes");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var inboxes = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("inboxes");
        return inboxes.EnumerateArray().Single(i => i.Str("inboxId") == "default").Str("publicKey")!;
    }
}
