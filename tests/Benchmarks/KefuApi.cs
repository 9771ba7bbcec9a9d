using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Kefu.Benchmarks;

/// <summary>The few HTTP calls of the Kefu API the benchmark needs (docs/protocol.md §3).</summary>
public sealed class KefuApi : IDisposable
{
    public const string AgentPassword = "bench-agent-password";

    private readonly HttpClient _http;

    public KefuApi(Uri baseUri, int maxConnections)
    {
        var handler = new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = Math.Max(1, maxConnections) };
        _http = new HttpClient(handler) { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(60) };
    }

    public static Uri WebSocketUri(Uri baseUri, string token) =>
        new UriBuilder(baseUri) { Scheme = "ws", Path = "/ws", Query = "access_token=" + Uri.EscapeDataString(token) }.Uri;

    public async Task<(string VisitorId, string Token)> CreateVisitorAsync(string name, string? inbox, CancellationToken cancellationToken)
    {
        using var response = await _http.PostAsJsonAsync("/api/v1/visitors", new { name, inbox }, cancellationToken);
        var body = await ReadAsync(response, HttpStatusCode.Created, "POST /api/v1/visitors", cancellationToken);
        return (body.GetProperty("visitorId").GetString()!, body.GetProperty("token").GetString()!);
    }

    public async Task<string> LoginAsync(string username, string password, CancellationToken cancellationToken)
    {
        using var response = await _http.PostAsJsonAsync("/api/v1/auth/login", new { username, password }, cancellationToken);
        var body = await ReadAsync(response, HttpStatusCode.OK, $"login as {username}", cancellationToken);
        return body.GetProperty("token").GetString()!;
    }

    public async Task CreateAgentAsync(string adminToken, string username, int capacity, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/agents")
        {
            Content = JsonContent.Create(new { username, password = AgentPassword, displayName = "Bench " + username, capacity }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
        using var response = await _http.SendAsync(request, cancellationToken);
        await ReadAsync(response, HttpStatusCode.Created, "POST /api/v1/agents", cancellationToken);
    }

    /// <summary>
    /// An inbox without automatic assignment, so each benchmark agent takes exactly the conversations it joins (the
    /// benchmark measures the message path, not the dispatcher).
    /// </summary>
    public async Task CreateManualInboxAsync(string adminToken, string inbox, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/inboxes/{inbox}")
        {
            Content = JsonContent.Create(new { name = "Benchmark " + inbox, assignmentPolicy = "manual", teams = Array.Empty<string>() }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
        using var response = await _http.SendAsync(request, cancellationToken);
        await ReadAsync(response, HttpStatusCode.OK, $"PUT /api/v1/inboxes/{inbox}", cancellationToken);
    }

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response, HttpStatusCode expected, string what, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.StatusCode != expected)
        {
            throw new InvalidOperationException($"{what}: expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        }

        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public void Dispose() => _http.Dispose();
}
