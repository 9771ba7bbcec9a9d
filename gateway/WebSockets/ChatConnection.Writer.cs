using System.Net.WebSockets;
using Kefu.Contracts.Messages;

namespace Kefu.Gateway.WebSockets;

public sealed partial class ChatConnection
{
    private const int SyncPageSize = 500;

    private async Task WriteLoopAsync(WebSocket socket, CancellationToken token)
    {
        try
        {
            await foreach (var item in _outbound.Reader.ReadAllAsync(token))
            {
                switch (item)
                {
                    case Outbound.Frame f:
                        await WriteAsync(f.Bytes, token);
                        break;
                    case Outbound.Live live:
                        await WriteLiveAsync(live, token);
                        break;
                    case Outbound.SyncStart start:
                        var cursor = CursorOf(start.ConversationId);
                        cursor.LastSeq = start.AfterSeq;
                        cursor.Syncing = true;
                        break;
                    case Outbound.SyncPage page:
                        await WriteSyncPageAsync(page, token);
                        break;
                    case Outbound.SyncEnd end:
                        await EndSyncAsync(end, token);
                        break;
                    case Outbound.Close close:
                        await socket.CloseOutputAsync(close.Status, close.Reason, token);
                        return;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
            // The socket is gone; the read loop ends too.
        }
        finally
        {
            _stop.Cancel();
        }
    }

    private async Task WriteLiveAsync(Outbound.Live live, CancellationToken token)
    {
        var cursor = CursorOf(live.ConversationId);
        if (cursor.Syncing)
        {
            cursor.Held.Add(live);
            return;
        }

        if (live.Seq <= cursor.LastSeq)
        {
            return;
        }

        cursor.LastSeq = live.Seq;
        cursor.ShownSeq = Math.Max(cursor.ShownSeq, live.Seq);
        await WriteAsync(live.Bytes, token);
    }

    private async Task WriteSyncPageAsync(Outbound.SyncPage page, CancellationToken token)
    {
        var cursor = CursorOf(page.ConversationId);
        foreach (var message in page.Messages)
        {
            if (message.Seq > cursor.LastSeq)
            {
                cursor.LastSeq = message.Seq;
                cursor.ShownSeq = Math.Max(cursor.ShownSeq, message.Seq);
                await WriteAsync(_frames.Message(message), token);
            }
        }
    }

    private async Task EndSyncAsync(Outbound.SyncEnd end, CancellationToken token)
    {
        var cursor = CursorOf(end.ConversationId);
        cursor.Syncing = false;
        // A client may claim (afterSeq) to have seen more than exists: from here on the server's last seq is the
        // truth, so later live messages are not mistaken for ones already shown. After a failed sync, fall back to
        // what this connection has really been shown.
        cursor.LastSeq = end.LastSeq is { } lastSeq ? Math.Min(cursor.LastSeq, lastSeq) : cursor.ShownSeq;

        await WriteAsync(end.Error ?? _frames.Synced(end.ConversationId, Math.Max(end.LastSeq ?? 0, cursor.LastSeq)), token);
        if (cursor.Held.Count == 0)
        {
            return;
        }

        var held = cursor.Held.ToArray();
        cursor.Held.Clear();
        Array.Sort(held, static (a, b) => a.Seq.CompareTo(b.Seq));
        foreach (var live in held)
        {
            await WriteLiveAsync(live, token);
        }
    }

    private Cursor CursorOf(string conversationId)
    {
        if (!_cursors.TryGetValue(conversationId, out var cursor))
        {
            _cursors[conversationId] = cursor = new Cursor();
        }

        return cursor;
    }

    private ValueTask WriteAsync(byte[] frame, CancellationToken token) =>
        _socket!.SendAsync(frame.AsMemory(), _frames.MessageType, endOfMessage: true, token);

    /// <summary>What this connection has been shown of one conversation.</summary>
    private sealed class Cursor
    {
        public long LastSeq { get; set; }

        public bool Syncing { get; set; }

        /// <summary>The highest seq this connection has actually been shown (a sync's afterSeq is only the client's word).</summary>
        public long ShownSeq { get; set; }

        public List<Outbound.Live> Held { get; } = [];
    }

    private abstract record Outbound
    {
        public sealed record Frame(byte[] Bytes) : Outbound;

        public sealed record Live(string ConversationId, long Seq, byte[] Bytes) : Outbound;

        public sealed record SyncStart(string ConversationId, long AfterSeq) : Outbound;

        public sealed record SyncPage(string ConversationId, ChatMessage[] Messages) : Outbound;

        public sealed record SyncEnd(string ConversationId, long? LastSeq, byte[]? Error) : Outbound;

        public sealed record Close(WebSocketCloseStatus Status, string Reason) : Outbound;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connection {ConnectionId} fell {Queue} frames behind; dropped (it re-syncs on reconnect)")]
    private static partial void LogSlowConsumer(ILogger logger, string connectionId, int queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Frame '{Type}' on connection {ConnectionId} failed")]
    private static partial void LogFrameFailed(ILogger logger, Exception exception, string connectionId, string? type);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Disconnect of {ConnectionId} could not be reported")]
    private static partial void LogDisconnectFailed(ILogger logger, Exception exception, string connectionId);
}
