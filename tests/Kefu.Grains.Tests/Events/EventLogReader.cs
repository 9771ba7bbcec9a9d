using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;

namespace Kefu.Grains.Tests.Events;

/// <summary>Reads a tenant's events the way the events API does (through the event log grain), every type included.</summary>
public sealed class EventLogReader(IClusterClient client, string tenant)
{
    public long Cursor { get; private set; }

    /// <summary>Everything stored so far, in cursor order.</summary>
    public async Task<List<StoredEvent>> AllAsync()
    {
        var all = new List<StoredEvent>();
        var after = 0L;
        while (true)
        {
            var page = await client.GetGrain<IEventLogGrain>(tenant).Read(after, EventTypes.All, 500);
            all.AddRange(page.Events);
            if (page.Events.Length == 0 || page.Next == after)
            {
                return all;
            }

            after = page.Next;
        }
    }

    /// <summary>The events stored since the last call.</summary>
    public async Task<List<StoredEvent>> NewAsync()
    {
        var fresh = new List<StoredEvent>();
        while (true)
        {
            var page = await client.GetGrain<IEventLogGrain>(tenant).Read(Cursor, EventTypes.All, 500);
            fresh.AddRange(page.Events);
            if (page.Events.Length == 0 || page.Next == Cursor)
            {
                return fresh;
            }

            Cursor = page.Next;
        }
    }
}
