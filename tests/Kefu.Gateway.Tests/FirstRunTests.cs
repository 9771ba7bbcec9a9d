using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests;

/// <summary>
/// What a newcomer does: start the gateway binary with no configuration, read the address and the generated admin
/// password it prints, and chat. Runs the real process and stops it by its PID.
/// </summary>
public sealed partial class FirstRunTests
{
    [Fact]
    public async Task The_gateway_binary_prints_its_address_and_admin_password_and_serves_a_working_chat()
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Kefu.Gateway.dll"));
        start.ArgumentList.Add($"--urls=http://127.0.0.1:{GatewayFixture.FreePort()}");
        start.ArgumentList.Add($"--Kefu:Silo:SiloPort={GatewayFixture.FreePort()}");
        start.ArgumentList.Add($"--Kefu:Silo:GatewayPort={GatewayFixture.FreePort()}");
        start.Environment.Remove("Kefu__Bootstrap__AdminPassword");

        // A first start: no state file from an earlier run (see EmbeddedRestartTests).
        var statePath = Path.Combine(Path.GetTempPath(), $"kefu-first-run-{Guid.NewGuid():N}.json");
        start.ArgumentList.Add($"--Kefu:Embedded:StatePath={statePath}");

        using var process = Process.Start(start)!;
        try
        {
            var output = new List<string>();
            string? password = null;
            string? address = null;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            _ = process.StandardError.ReadToEndAsync(timeout.Token);
            while (address is null)
            {
                var line = await process.StandardOutput.ReadLineAsync(timeout.Token)
                    ?? throw new InvalidOperationException("The gateway exited early:\n" + string.Join('\n', output));
                output.Add(line);
                password ??= PasswordLine().Match(line) is { Success: true } p ? p.Groups[1].Value : null;
                address = ReadyLine().Match(line) is { Success: true } a ? a.Groups[1].Value : null;
            }

            Assert.False(string.IsNullOrEmpty(password), "no generated admin password was printed:\n" + string.Join('\n', output));
            _ = DrainAsync(process.StandardOutput);

            using var http = new HttpClient { BaseAddress = new Uri(address) };
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz")).StatusCode);
            var login = await http.PostAsJsonAsync("/api/v1/auth/login", new { username = "admin", password });
            Assert.Equal(HttpStatusCode.OK, login.StatusCode);
            var adminToken = (await login.Content.ReadFromJsonAsync<JsonElement>()).Str("token")!;
            var visitor = await (await http.PostAsJsonAsync("/api/v1/visitors", new { name = "First" })).Content.ReadFromJsonAsync<JsonElement>();

            var ws = new Uri(address.Replace("http", "ws", StringComparison.Ordinal) + "/ws");
            await using var visitorSocket = await ChatClient.ConnectAsync(ws, visitor.Str("token")!);
            var conversationId = (await visitorSocket.SendMessageAsync("hello from a fresh install")).Str("conversationId")!;
            await using var adminSocket = await ChatClient.ConnectAsync(ws, adminToken);
            await adminSocket.SendAsync(new { type = "sync", conversationId, afterSeq = 0 });
            var synced = await adminSocket.ReceiveUntilAsync("synced");
            // Nobody was online: the visitor's message is followed by the away message from the system.
            var messages = synced.Where(f => f.Type() == "message").ToArray();
            Assert.Equal("hello from a fresh install", messages[0].Str("text"));
            Assert.Equal("system", Assert.Single(messages[1..]).GetProperty("sender").Str("role"));
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            File.Delete(statePath);
        }
    }

    private static async Task DrainAsync(StreamReader reader)
    {
        while (await reader.ReadLineAsync() is not null)
        {
        }
    }

    [GeneratedRegex(@"^\s*password: (\S+)\s*$")]
    private static partial Regex PasswordLine();

    [GeneratedRegex(@"^Kefu gateway ready: (http://\S+)")]
    private static partial Regex ReadyLine();
}
