using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Kefu.Browser.Tests.Infrastructure;

/// <summary>
/// A visitor without a browser: made through the API (with name, email, attributes, inbox) and talking over its own
/// WebSocket. Sets the scene for console tests faster than a widget would.
/// </summary>
public sealed class VisitorSocket : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private int _sent;

    private VisitorSocket(string visitorId) => VisitorId = visitorId;

    public string VisitorId { get; }

    public string? ConversationId { get; private set; }

    public static async Task<VisitorSocket> ConnectAsync(
        BrowserFixture fixture, string? name = null, string? email = null, Dictionary<string, string>? attributes = null, string? inbox = null)
    {
        using var http = new HttpClient { BaseAddress = fixture.BaseUri };
        var response = await http.PostAsJsonAsync("/api/v1/visitors", new { name, email, attributes, inbox });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var visitor = new VisitorSocket(body.GetProperty("visitorId").GetString()!);
        visitor._socket.Options.AddSubProtocol("kefu.v1.json");
        var uri = new UriBuilder(fixture.BaseUri) { Scheme = "ws", Path = "/ws", Query = "access_token=" + Uri.EscapeDataString(body.GetProperty("token").GetString()!) }.Uri;
        await visitor._socket.ConnectAsync(uri, CancellationToken.None);
        return visitor;
    }

    /// <summary>Sends a message and waits for its ack; its seq.</summary>
    public async Task<long> SendAsync(string text)
    {
        var clientMsgId = "v" + Interlocked.Increment(ref _sent);
        var frame = JsonSerializer.Serialize(new { type = "send", clientMsgId, conversationId = ConversationId, text });
        await _socket.SendAsync(Encoding.UTF8.GetBytes(frame), WebSocketMessageType.Text, true, CancellationToken.None);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (true)
        {
            var reply = await ReceiveAsync(timeout.Token);
            var type = reply.GetProperty("type").GetString();
            if (type == "ack" && reply.GetProperty("clientMsgId").GetString() == clientMsgId)
            {
                ConversationId = reply.GetProperty("conversationId").GetString();
                return reply.GetProperty("seq").GetInt64();
            }

            if (type == "error" && reply.TryGetProperty("ref", out var r) && r.GetString() == clientMsgId)
            {
                throw new InvalidOperationException("Send refused: " + reply);
            }
        }
    }

    /// <summary>Marks the conversation read up to this seq (as the widget does when it shows messages).</summary>
    public Task ReadAsync(long seq) => _socket.SendAsync(
        Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { type = "read", conversationId = ConversationId, seq })),
        WebSocketMessageType.Text, true, CancellationToken.None);

    private async Task<JsonElement> ReceiveAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await _socket.ReceiveAsync(buffer, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new InvalidOperationException("The server closed the visitor's socket.");
            }

            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return JsonDocument.Parse(message.ToArray()).RootElement.Clone();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            // Closing is best effort: the server notices a dropped socket too.
        }

        _socket.Dispose();
    }
}
