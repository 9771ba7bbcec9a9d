using System.Net.WebSockets;
using Kefu.Contracts.Messages;

namespace Kefu.Gateway.WebSockets;

public sealed partial class ChatConnection
{
    // The outbound queue. Everything below is guarded by _gate. While nothing waits to be sent, a connection holds no
    // queue and no writer task: the first frame creates the queue and starts a drain on the thread pool, the drain
    // writes until the queue is empty and then drops it again. At most one drain runs at a time, so frames are
    // written in queue order and the cursors are only ever touched by one thread at a time.
    private readonly Lock _gate = new();
    private Queue<Outbound>? _queue;
    private long _queuedBytes;
    private long _maxQueuedBytes;
    private int _syncPages;
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

    /// <summary>
    /// Queues a frame without waiting; a full queue is the caller's to handle. Full is <see cref="KefuWebSocketOptions.OutboundQueue"/>
    /// frames or more than <paramref name="byteLimit"/> bytes (default: <see cref="KefuWebSocketOptions.OutboundBytes"/>);
    /// one item always fits into an empty queue.
    /// </summary>
    private Enqueued TryEnqueue(Outbound item, long byteLimit = -1)
    {
        lock (_gate)
        {
            if (_completed || _stop.IsCancellationRequested)
            {
                return Enqueued.Closed;
            }

            var queue = _queue ??= new Queue<Outbound>();
            var cost = item.Bytes;
            if (!HasRoomLocked(queue, cost, byteLimit < 0 ? _options.OutboundBytes : byteLimit))
            {
                return Enqueued.Full;
            }

            queue.Enqueue(item);
            _queuedBytes += cost;
            _maxQueuedBytes = Math.Max(_maxQueuedBytes, _queuedBytes);
            if (item is Outbound.SyncPage)
            {
                _syncPages++;
            }
            if (!StartDrainLocked())
            {
                return Enqueued.Yes;
            }
        }

        ThreadPool.UnsafeQueueUserWorkItem(static c => _ = c.DrainAsync(), this, preferLocal: false);
        return Enqueued.Yes;
    }

    private bool HasRoomLocked(Queue<Outbound> queue, int cost, long byteLimit) =>
        queue.Count == 0 || (queue.Count < _options.OutboundQueue && _queuedBytes + cost <= byteLimit);

    /// <summary>The most bytes this connection's outbound queue has held at once (diagnostics and tests).</summary>
    public long MaxQueuedBytes
    {
        get
        {
            lock (_gate)
            {
                return _maxQueuedBytes;
            }
        }
    }

    /// <summary>Sync pages queued on this connection so far (diagnostics and tests).</summary>
    public int SyncPagesQueued
    {
        get
        {
            lock (_gate)
            {
                return _syncPages;
            }
        }
    }

    /// <summary>
    /// Queues a frame, waiting while the queue is full (only the read loop calls this). The read loop's own answers get
    /// half the byte budget (or <paramref name="byteLimit"/>, if less): the client's frames are read no faster than it
    /// reads the answers, and pushed events always have the other half.
    /// </summary>
    private async ValueTask EnqueueAsync(Outbound item, CancellationToken token, long byteLimit = long.MaxValue)
    {
        byteLimit = Math.Min(byteLimit, _options.OutboundBytes / 2);
        while (true)
        {
            switch (TryEnqueue(item, byteLimit))
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
                if (_completed || _queue is not { } queue || HasRoomLocked(queue, item.Bytes, byteLimit))
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
                        _queuedBytes = 0;
                        _draining = false;
                        _drained?.TrySetResult();
                        return;
                    }

                    item = queue.Dequeue();
                    _queuedBytes -= item.Bytes;
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
                    _queuedBytes = 0;
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
                return WriteAsync(f.Data, token);
            case Outbound.Live live:
                return WriteLiveAsync(live, token);
            case Outbound.SyncStart start:
                var cursor = CursorOf(start.ConversationId);
                cursor.LastSeq = start.AfterSeq;
                cursor.Syncing = true;
                cursor.Paging = false;
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

        // Between the pages of a sync this message would come ahead of older ones; the next page brings it instead.
        if (cursor.Paging || live.Seq <= cursor.LastSeq)
        {
            return;
        }

        cursor.LastSeq = live.Seq;
        cursor.ShownSeq = Math.Max(cursor.ShownSeq, live.Seq);
        await WriteAsync(live.Data, token);
    }

    private async ValueTask WriteSyncPageAsync(Outbound.SyncPage page, CancellationToken token)
    {
        var cursor = CursorOf(page.ConversationId);
        foreach (var (seq, frame) in page.Messages)
        {
            if (seq > cursor.LastSeq)
            {
                cursor.LastSeq = seq;
                cursor.ShownSeq = Math.Max(cursor.ShownSeq, seq);
                await WriteAsync(frame, token);
            }
        }
    }

    private async ValueTask EndSyncAsync(Outbound.SyncEnd end, CancellationToken token)
    {
        var cursor = CursorOf(end.ConversationId);
        cursor.Syncing = false;
        if (end.HasMore && end.LastSeq is { } last)
        {
            // Not the last page: what was held is in this page or comes with the next ones, as does every live message
            // until the client's next sync of this conversation (docs/protocol.md §9.3).
            cursor.Paging = true;
            cursor.Held.Clear();
            await WriteAsync(_frames.Synced(end.ConversationId, last, end.ThroughSeq, hasMore: true), token);
            return;
        }

        cursor.Paging = false;
        // A client may claim (afterSeq) to have seen more than exists: from here on the server's last seq is the
        // truth, so later live messages are not mistaken for ones already shown. After a failed sync, fall back to
        // what this connection has really been shown.
        cursor.LastSeq = end.LastSeq is { } lastSeq ? Math.Min(cursor.LastSeq, lastSeq) : cursor.ShownSeq;

        var synced = Math.Max(end.LastSeq ?? 0, cursor.LastSeq);
        await WriteAsync(end.Error ?? _frames.Synced(end.ConversationId, synced, synced, hasMore: false), token);
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

        /// <summary>A sync answered a page with more to come: live messages wait for the next <c>sync</c> (dropped here, it fetches them).</summary>
        public bool Paging { get; set; }

        /// <summary>The highest seq this connection has actually been shown (a sync's afterSeq is only the client's word).</summary>
        public long ShownSeq { get; set; }

        public List<Outbound.Live> Held { get; } = [];
    }

    /// <summary>An item of the outbound queue; <see cref="Bytes"/> is what it holds, counted against <c>OutboundBytes</c>.</summary>
    private abstract record Outbound
    {
        public abstract int Bytes { get; }

        public sealed record Frame(byte[] Data) : Outbound
        {
            public override int Bytes => Data.Length;
        }

        public sealed record Live(string ConversationId, long Seq, byte[] Data) : Outbound
        {
            public override int Bytes => Data.Length;
        }

        public sealed record SyncStart(string ConversationId, long AfterSeq) : Outbound
        {
            public override int Bytes => 0;
        }

        /// <summary>A sync page, already encoded (so its size is known when it is queued).</summary>
        public sealed record SyncPage(string ConversationId, (long Seq, byte[] Frame)[] Messages, int Size) : Outbound
        {
            public override int Bytes => Size;
        }

        /// <summary>The end of a sync: <paramref name="LastSeq"/> null with an error; <paramref name="ThroughSeq"/> matters only with <paramref name="HasMore"/>.</summary>
        public sealed record SyncEnd(string ConversationId, long? LastSeq, byte[]? Error, long ThroughSeq = 0, bool HasMore = false) : Outbound
        {
            public override int Bytes => Error?.Length ?? 0;
        }

        public sealed record Close(WebSocketCloseStatus Status, string Reason) : Outbound
        {
            public override int Bytes => 0;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connection {ConnectionId} fell {Queue} frames behind; dropped (it re-syncs on reconnect)")]
    private static partial void LogSlowConsumer(ILogger logger, string connectionId, int queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Frame '{Type}' on connection {ConnectionId} failed")]
    private static partial void LogFrameFailed(ILogger logger, Exception exception, string connectionId, string? type);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Unreadable frame on connection {ConnectionId}: {ExceptionType}: {Reason}")]
    private static partial void LogUnparsableFrame(ILogger logger, string connectionId, string exceptionType, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Disconnect of {ConnectionId} could not be reported")]
    private static partial void LogDisconnectFailed(ILogger logger, Exception exception, string connectionId);
}
