using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;

namespace Kefu.Grains.Events;

/// <summary>Reads the outbox for gateways (which never talk to the database). Stateless: any silo answers.</summary>
[StatelessWorker]
public sealed class EventLogGrain(IEventLog log) : Grain, IEventLogGrain
{
    public async Task<EventPage> Read(long after, string[]? types, int limit) =>
        await log.ReadAsync(this.GetPrimaryKeyString(), after, types, limit);
}
