using Grpc.Core;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Integration;
using Kefu.Gateway.Api;
using Kefu.Gateway.WebSockets;

namespace Kefu.Gateway.Grpc;

/// <summary>
/// One Subscribe call: the history after the cursor from the event log (pages until one comes back empty), one
/// CaughtUp, then live batches from the tenant's shared tail, with a heartbeat carrying the cursor whenever nothing was
/// sent for a heartbeat interval. <c>position</c> is the cursor through which everything has been examined (sent, or
/// skipped by the type filter); it only moves forward, and only events past it are sent, so a resume from any cursor the
/// stream handed out has no gap and no duplicate.
/// </summary>
public sealed class EventSubscriber(
    IGrainFactory grains,
    EventTails tails,
    TimeProvider time,
    string tenant,
    string[]? types,
    KefuGrpcOptions options)
{
    private readonly int _pageSize = Math.Clamp(options.PageSize, 1, EventsApi.MaxLimit);
    private long _lastSent;

    /// <param name="after">The cursor to continue after; null = from the oldest retained event.</param>
    /// <param name="write">Writes one message to the stream (its flow control is the backpressure).</param>
    public async Task RunAsync(long? after, Func<SubscribeResponse, Task> write, CancellationToken cancellationToken)
    {
        var position = await ReadHistoryAsync(after ?? 0, checkExpiry: after is not null, write, cancellationToken);
        await SendAsync(new SubscribeResponse { CaughtUp = new CaughtUp { Cursor = EventCursor.Format(position) } }, write);

        // The shared tail reads the default types; a subscriber that names an explicit-only type (note.created) polls
        // the log itself.
        if (types is not null && types.Any(EventTypes.IsExplicitOnly))
        {
            await PollAsync(position, write, cancellationToken);
            return;
        }

        while (!cancellationToken.IsCancellationRequested)
        {
            using var subscription = tails.Join(tenant, position);
            while (true)
            {
                var due = HeartbeatDue();
                if (due <= TimeSpan.Zero)
                {
                    await HeartbeatAsync(position, write);
                    continue;
                }

                var batch = await subscription.ReadAsync(due, time, cancellationToken);
                if (batch is null)
                {
                    if (subscription.Completed)
                    {
                        // Dropped for falling behind: join again; the gap is read from the log below.
                        break;
                    }

                    continue;
                }

                if (batch.To <= position)
                {
                    continue;
                }

                if (batch.From > position)
                {
                    // Joined a tail that was ahead, or dropped and back: what lies between comes from the log (at least up to
                    // batch.To, which the tail had seen, so the log shows it too).
                    position = await ReadHistoryAsync(position, checkExpiry: true, write, cancellationToken);
                }

                for (var i = 0; i < batch.Events.Length; i++)
                {
                    var e = batch.Events[i];
                    if (e.Cursor > position && Wanted(e.Type))
                    {
                        await SendAsync(batch.Messages[i], write);
                    }
                }

                position = Math.Max(position, batch.To);
            }
        }
    }

    private async Task PollAsync(long position, Func<SubscribeResponse, Task> write, CancellationToken cancellationToken)
    {
        while (true)
        {
            position = await ReadHistoryAsync(position, checkExpiry: true, write, cancellationToken);
            var due = HeartbeatDue();
            if (due <= TimeSpan.Zero)
            {
                await HeartbeatAsync(position, write);
                due = options.HeartbeatInterval;
            }

            await Task.Delay(due < options.PollInterval ? due : options.PollInterval, time, cancellationToken);
        }
    }

    /// <summary>Sends every wanted event after <paramref name="position"/> up to the log's head; returns the new position.</summary>
    private async Task<long> ReadHistoryAsync(long position, bool checkExpiry, Func<SubscribeResponse, Task> write, CancellationToken cancellationToken)
    {
        var log = grains.GetGrain<IEventLogGrain>(tenant);
        while (true)
        {
            EventPage page;
            try
            {
                page = await log.Read(position, types, _pageSize).WaitAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                throw GrpcErrors.Create(StatusCode.Unavailable, Contracts.Messages.ErrorCodes.Unavailable,
                    "The event log could not be read now; subscribe again after the last cursor you received.");
            }

            // Without a cursor the subscriber asked for the oldest retained events: that older ones were pruned is no news.
            if (page.CursorExpired && (checkExpiry || position > 0))
            {
                throw GrpcErrors.Create(StatusCode.OutOfRange, EventsApi.CursorExpired,
                    "Events after this cursor were deleted by retention; subscribe again without after (from the oldest retained event).");
            }

            checkExpiry = true;
            foreach (var e in page.Events)
            {
                if (e.Cursor > position)
                {
                    await SendAsync(new SubscribeResponse { Event = EventProto.ToProto(e) }, write);
                }
            }

            var next = page.Events.Length > 0 ? Math.Max(page.Next, page.Events[^1].Cursor) : page.Next;
            if (next <= position)
            {
                return position;
            }

            position = next;
        }
    }

    private bool Wanted(string type) => types is null ? !EventTypes.IsExplicitOnly(type) : Array.IndexOf(types, type) >= 0;

    private async Task SendAsync(SubscribeResponse message, Func<SubscribeResponse, Task> write)
    {
        await write(message);
        _lastSent = time.GetTimestamp();
    }

    private Task HeartbeatAsync(long position, Func<SubscribeResponse, Task> write) =>
        SendAsync(new SubscribeResponse
        {
            Heartbeat = new Heartbeat { Cursor = EventCursor.Format(position), Time = ProtoValues.UnixMicroseconds(time.GetUtcNow()) },
        }, write);

    /// <summary>Time left until a heartbeat is due (zero or less: now).</summary>
    private TimeSpan HeartbeatDue() => options.HeartbeatInterval - time.GetElapsedTime(_lastSent);
}
