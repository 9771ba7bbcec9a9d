using System.Text.Json;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Cluster.Tests.Infrastructure;

/// <summary>
/// A client that behaves as the protocol asks: on an error, a timeout or a dropped connection it reconnects and
/// re-sends the same clientMsgId until it gets an ack. Records every ack it got.
/// </summary>
public sealed class ResilientSender(Func<Task<ChatClient>> connect) : IAsyncDisposable
{
    private ChatClient? _client;

    public Dictionary<string, (long Seq, string MessageId)> Acks { get; } = [];

    public int Retries { get; private set; }

    public async Task<JsonElement> SendAsync(string clientMsgId, string text, string? conversationId, TimeSpan giveUpAfter)
    {
        var deadline = DateTime.UtcNow + giveUpAfter;
        while (true)
        {
            try
            {
                _client ??= await connect();
                await _client.SendAsync(conversationId is null
                    ? new { type = "send", clientMsgId, text }
                    : new { type = "send", clientMsgId, text, conversationId });
                while (true)
                {
                    var frame = await _client.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(10));
                    if (frame.Type() == "ack" && frame.Str("clientMsgId") == clientMsgId)
                    {
                        Acks[clientMsgId] = (frame.Long("seq"), frame.Str("messageId")!);
                        return frame;
                    }

                    if (frame.Type() == "error" && frame.Str("ref") == clientMsgId)
                    {
                        throw new InvalidOperationException($"error {frame.Str("code")}: {frame.Str("message")}");
                    }
                }
            }
            catch (Exception ex) when (DateTime.UtcNow < deadline && ex is not OutOfMemoryException)
            {
                Retries++;
                if (_client is not null)
                {
                    await _client.DisposeAsync();
                    _client = null;
                }

                await Task.Delay(250);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }
    }
}
