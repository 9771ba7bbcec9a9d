using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests;

/// <summary>Issue #11 item 8: Ctrl+C shuts the embedded gateway down within seconds, quietly, with exit code 0.</summary>
public sealed class ShutdownTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kefu-shutdown-").FullName;

    [Fact]
    public async Task Ctrl_C_after_a_chat_exits_within_seconds_with_code_0_and_no_errors()
    {
        await using var gateway = await GatewayProcess.StartAsync(Path.Combine(_directory, "state.json"));
        using var http = new HttpClient { BaseAddress = new Uri(gateway.Address) };
        var login = await http.PostAsJsonAsync("/api/v1/auth/login", new { username = "admin", password = gateway.PrintedPassword });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var adminToken = (await login.Content.ReadFromJsonAsync<JsonElement>()).Str("token")!;
        var visitor = await (await http.PostAsJsonAsync("/api/v1/visitors", new { name = "Leaving soon" })).Content.ReadFromJsonAsync<JsonElement>();

        // A little chat, with both sockets still open at Ctrl+C.
        var visitorSocket = await ChatClient.ConnectAsync(gateway.WebSocketUri, visitor.Str("token")!);
        var conversationId = (await visitorSocket.SendMessageAsync("hello")).Str("conversationId")!;
        var adminSocket = await ChatClient.ConnectAsync(gateway.WebSocketUri, adminToken);
        await adminSocket.SendAsync(new { type = "join", conversationId });
        await adminSocket.ReceiveUntilAsync("joined");
        await adminSocket.SendMessageAsync("hi, how can I help?", conversationId);
        await visitorSocket.SendMessageAsync("just testing");
        var readers = new[] { Task.Run(visitorSocket.DiscardUntilClosedAsync), Task.Run(adminSocket.DiscardUntilClosedAsync) };

        var (exitCode, took) = await gateway.InterruptAsync(TimeSpan.FromSeconds(90));
        await Task.WhenAll(readers).WaitAsync(TimeSpan.FromSeconds(10));
        await visitorSocket.DisposeAsync();
        await adminSocket.DisposeAsync();

        var output = gateway.Output;
        Assert.True(took < TimeSpan.FromSeconds(10), $"shutdown took {took}:\n{output}");
        Assert.True(exitCode == 0, $"exit code {exitCode}:\n{output}");
        Assert.False(output.Contains("Exception", StringComparison.Ordinal), output);
        Assert.False(output.Contains("fail:", StringComparison.Ordinal), output);

        // After "ready": only information, no warnings.
        var afterReady = output[output.IndexOf("Kefu gateway ready", StringComparison.Ordinal)..];
        Assert.False(afterReady.Contains("warn:", StringComparison.Ordinal), output);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
