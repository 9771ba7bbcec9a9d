using System.Net.WebSockets;
using Kefu.Contracts.Messages;

namespace Kefu.Gateway.WebSockets;

public sealed partial class ChatConnection
{
    private const int SyncPageSize = 500;

    // The outbound queue. Everything below is guarded by _gate. While nothing waits to be sent, a connection holds no
    // queue and no writer task: the first frame creates the queue and starts a drain on the thread pool, the drain
    // writes until the queue is empty and then drops it again. At most one drain runs at a time, so frames are
    // written in queue order and the cursors are only ever touched by one thread at a time.
    private readonly Lock _gate = new();
    private Queue<Outbound>? _queue;
    private bool _draining;
    private bool _completed;
    private TaskCompletionSource? _drained;
    private TaskCompletionSource? _space;
    private Dictionary<string, Cursor>? _cursors;

    private enum Enqueued
    {
        Yes,
        Full,
        Closed,
    }

    /// <summary>Queues a frame without waiting; a full queue is the caller's to handle.</summary>
    private Enqueued TryEnqueue(Outbound item)
    {
        lock (_gate)
        {
            if (_completed || _stop.IsCancellationRequested)
            {
                return Enqueued.Closed;
            }

            var queue = _queue ??= new Queue<Outbound>();
            if (queue.Count >= _options.OutboundQueue)
            {
                return Enqueued.Full;
            }

            queue.Enqueue(item);
            if (!StartDrainLocked())
            {
                return Enqueued.Yes;
            }
        }

        ThreadPool.UnsafeQueueUserWorkItem(static c => _ = c.DrainAsync(), this, preferLocal: false);
        return Enqueued.Yes;
    }

    /// <summary>Queues a frame, waiting while the queue is full (only the read loop calls this).</summary>
    private async ValueTask EnqueueAsync(Outbound item, CancellationToken token)
    {
        while (true)
        {
            switch (TryEnqueue(item))
            {
                case Enqueued.Yes:
                    return;
                case Enqueued.Closed:
                    token.ThrowIfCancellationRequested();
                    throw new OperationCanceledException("The connection is closing.");
            }

            Task room;
            lock (_gate)
            {
                if (_completed || _queue is not { } queue || queue.Count < _options.OutboundQueue)
                {
                    continue; // Room was made (or the connection ended) in between: try again.
                }

                room = (_space ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }

            await room.WaitAsync(token);
        }
    }

    /// <summary>Whether the caller must start a drain (it does so outside the lock).</summary>
    private bool StartDrainLocked()
    {
        if (_draining || _socket is null || _queue is not { Count: > 0 })
        {
            return false;
        }

        _draining = true;
        return true;
    }

    /// <summary>The WebSocket is open: frames queued before it (registered before the upgrade) go out now.</summary>
    private void AttachSocket(WebSocket socket)
    {
        lock (_gate)
        {
            _socket = socket;
            if (!StartDrainLocked())
            {
                return;
            }
        }

        ThreadPool.UnsafeQueueUserWorkItem(static c => _ = c.DrainAsync(), this, preferLocal: false);
    }

    /// <summary>Accepts no more frames; the task completes once what was queued is written (or cannot be).</summary>
    private Task CompleteOutbound()
    {
        lock (_gate)
        {
            _completed = true;
            if (!_draining)
            {
                return Task.CompletedTask;
            }

            return (_drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }
    }

    private void Stop() => _stop.Cancel();

    private async Task DrainAsync()
    {
        var token = _stop.Token;
        var ended = false;
        var closeSent = false;
        try
        {
            while (true)
            {
                Outbound item;
                TaskCompletionSource? space;
                lock (_gate)
                {
                    if (_queue is not { Count: > 0 } queue)
                    {
                        // Nothing left: drop the queue (an idle connection holds none) and stop until the next frame.
                        _queue = null;
                        _draining = false;
                        _drained?.TrySetResult();
                        return;
                    }

                    item = queue.Dequeue();
                    space = _space;
                    _space = null;
                }

                space?.TrySetResult();
                if (item is Outbound.Close close)
                {
                    ended = true;
                    await _socket!.CloseOutputAsync(close.Status, close.Reason, token);
                    closeSent = true;
                    return;
                }

                await WriteItemAsync(item, token);
            }
        }
        catch (Exception)
        {
            // The socket is gone (or a write failed in a way it cannot recover from): the read loop ends too.
            ended = true;
        }
        finally
        {
            if (ended)
            {
                // After our close frame or a failed write nothing more is written: the connection ends.
                lock (_gate)
                {
                    _completed = true;
                    _queue = null;
                    _draining = false;
                    _drained?.TrySetResult();
                    _space?.TrySetResult();
                    _space = null;
                }

                if (closeSent)
                {
                    // The read loop may be waiting in a receive (a close not started by it, e.g. a revoked session):
                    // cancelling that would abort the socket before the client reads our close frame. The client's
                    // answering close ends the read loop; one that does not answer is cut off like in DrainUntilClose.
                    _stop.CancelAfter(TimeSpan.FromSeconds(3));
                }
                else
                {
                    Stop();
                }
            }
        }
    }

    private ValueTask WriteItemAsync(Outbound item, CancellationToken token)
    {
        switch (item)
        {
            case Outbound.Frame f:
                return WriteAsync(f.Bytes, token);
            case Outbound.Live live:
                return WriteLiveAsync(live, token);
            case Outbound.SyncStart start:
                var cursor = CursorOf(start.ConversationId);
                cursor.LastSeq = start.AfterSeq;
                cursor.Syncing = true;
                return ValueTask.CompletedTask;
            case Outbound.SyncPage page:
                return WriteSyncPageAsync(page, token);
            case Outbound.SyncEnd end:
                return EndSyncAsync(end, token);
            default:
                return ValueTask.CompletedTask;
        }
    }

    private async ValueTask WriteLiveAsync(Outbound.Live live, CancellationToken token)
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

    private async ValueTask WriteSyncPageAsync(Outbound.SyncPage page, CancellationToken token)
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

    private async ValueTask EndSyncAsync(Outbound.SyncEnd end, CancellationToken token)
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
        var cursors = _cursors ??= new Dictionary<string, Cursor>(StringComparer.Ordinal);
        if (!cursors.TryGetValue(conversationId, out var cursor))
        {
            cursors[conversationId] = cursor = new Cursor();
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
