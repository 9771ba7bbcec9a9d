using Kefu.Contracts.Events;
using Kefu.Grains.Activity;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Events;

/// <summary>
/// The embedded-mode outbox: process memory, so events last as long as the process (like everything embedded).
/// One lock per tenant makes cursor assignment and visibility one step, which is what keeps cursors in order. Events
/// are kept as they are and turned into their public JSON when read, not on the send path.
/// </summary>
public sealed class InMemoryEventLog(IOptions<EventLogOptions> options, TimeProvider time) : IEventLog, DataProtection.IPersonalEventLog, Retention.ITenantEventPruning
{
    /// <summary>A tenant's retention policy (issue #20): drops its events older than <paramref name="before"/> (memory is quick: no chunking needed, the limit is ignored).</summary>
    public Task<int> PruneTenantAsync(string tenant, DateTimeOffset before, int limit, CancellationToken cancellationToken)
    {
        var log = Log(tenant);
        lock (log)
        {
            var count = log.Events.Count;
            log.Prune(before);
            return Task.FromResult(count - log.Events.Count);
        }
    }

    private readonly Dictionary<string, TenantLog> _tenants = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public ValueTask AppendAsync(IReadOnlyList<DomainEvent> events, CancellationToken cancellationToken = default)
    {
        var horizon = time.GetUtcNow() - options.Value.Retention;
        foreach (var group in events.GroupBy(e => e.Tenant, StringComparer.Ordinal))
        {
            var log = Log(group.Key);
            lock (log)
            {
                foreach (var e in group)
                {
                    if (log.Ids.Add(e.Id))
                    {
                        log.Add(new Entry(++log.Last, e, ActivitySubject.ConversationOf(e)));
                    }
                }

                log.Prune(horizon);
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<EventPage> ReadAsync(string tenant, long after, IReadOnlyCollection<string>? types, int limit, CancellationToken cancellationToken = default)
    {
        var log = Log(tenant);
        lock (log)
        {
            log.Prune(time.GetUtcNow() - options.Value.Retention);
            var expired = after < log.PrunedThrough;
            var page = new List<StoredEvent>(Math.Min(limit, 64));
            var next = after;
            var start = FirstAfter(log.Events, after);
            for (var i = start; i < log.Events.Count && page.Count < limit; i++)
            {
                var e = log.Events[i];
                next = e.Cursor;
                if (types is null ? !EventTypes.IsExplicitOnly(e.Type) : types.Contains(e.Type))
                {
                    page.Add(e.Stored());
                }
            }

            // Nothing more to examine: the consumer may continue from the head without scanning skipped events again.
            if (page.Count < limit && log.Last > next)
            {
                next = log.Last;
            }

            return ValueTask.FromResult(new EventPage([.. page], next, expired));
        }
    }

    public ValueTask<EventPage> ReadConversationAsync(string tenant, string conversationId, long after, IReadOnlyCollection<string> types, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(types);
        var log = Log(tenant);
        lock (log)
        {
            log.Prune(time.GetUtcNow() - options.Value.Retention);
            var page = new List<StoredEvent>(Math.Min(limit, 64));
            if (log.ByConversation.TryGetValue(conversationId, out var events))
            {
                for (var i = FirstAfter(events, after); i < events.Count && page.Count < limit; i++)
                {
                    if (types.Contains(events[i].Type))
                    {
                        page.Add(events[i].Stored());
                    }
                }
            }

            return ValueTask.FromResult(new EventPage([.. page], page.Count > 0 ? page[^1].Cursor : after));
        }
    }

    public async IAsyncEnumerable<StoredEvent> ReadAboutAsync(
        string tenant, string contactId, IReadOnlyCollection<string> conversationIds, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        List<StoredEvent> about;
        var log = Log(tenant);
        lock (log)
        {
            about = [.. log.Events.Where(e => IsAbout(e, contactId, conversationIds)).Select(e => e.Stored())];
        }

        foreach (var e in about)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return e;
        }

        await Task.CompletedTask;
    }

    public Task<long> EraseAboutAsync(string tenant, string contactId, IReadOnlyCollection<string> conversationIds, CancellationToken cancellationToken)
    {
        long changed = 0;
        var log = Log(tenant);
        lock (log)
        {
            foreach (var e in log.Events.Where(e => IsAbout(e, contactId, conversationIds)))
            {
                if (e.Erase())
                {
                    changed++;
                }
            }
        }

        return Task.FromResult(changed);
    }

    private static bool IsAbout(Entry e, string contactId, IReadOnlyCollection<string> conversationIds) =>
        (e.Event.ConversationId is { } conversation && conversationIds.Contains(conversation))
        || (e.Subject is { } subject && conversationIds.Contains(subject))
        || e.ContactId == contactId;

    private TenantLog Log(string tenant)
    {
        lock (_gate)
        {
            if (!_tenants.TryGetValue(tenant, out var log))
            {
                _tenants[tenant] = log = new TenantLog();
            }

            return log;
        }
    }

    private static int FirstAfter(List<Entry> events, long after)
    {
        int lo = 0, hi = events.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (events[mid].Cursor <= after)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    private sealed class TenantLog
    {
        public List<Entry> Events { get; } = [];

        /// <summary>The timeline index: each conversation's events (<see cref="ActivitySubject"/>), in cursor order.</summary>
        public Dictionary<string, List<Entry>> ByConversation { get; } = new(StringComparer.Ordinal);

        public HashSet<Ulid> Ids { get; } = [];

        public long Last { get; set; }

        /// <summary>The highest cursor pruned so far: a reader behind it has missed events.</summary>
        public long PrunedThrough { get; private set; }

        /// <summary>The oldest event time in the log.</summary>
        private DateTimeOffset _oldest = DateTimeOffset.MaxValue;

        /// <summary>
        /// An event older than one before it was stored (a clock step back, a back-dated event): pruning then has to
        /// look past the front. Events normally arrive in time order, and then the front is all there is to prune.
        /// </summary>
        private bool _outOfOrder;

        public void Add(Entry e)
        {
            _outOfOrder |= Events.Count > 0 && e.Time < Events[^1].Time;
            Events.Add(e);
            if (e.Subject is { } subject)
            {
                if (!ByConversation.TryGetValue(subject, out var list))
                {
                    ByConversation[subject] = list = [];
                }

                list.Add(e);
            }

            if (e.Time < _oldest)
            {
                _oldest = e.Time;
            }
        }

        /// <summary>Drops every event older than <paramref name="horizon"/>; nothing to do while none is that old.</summary>
        public void Prune(DateTimeOffset horizon)
        {
            if (_oldest >= horizon)
            {
                return;
            }

            var front = 0;
            while (front < Events.Count && Events[front].Time < horizon)
            {
                front++;
            }

            var removed = Events.GetRange(0, front);
            Events.RemoveRange(0, front);
            if (_outOfOrder)
            {
                removed.AddRange(Events.Where(e => e.Time < horizon));
                Events.RemoveAll(e => e.Time < horizon);
                _outOfOrder = Events.Zip(Events.Skip(1)).Any(pair => pair.Second.Time < pair.First.Time);
            }

            foreach (var e in removed)
            {
                if (e.Subject is { } subject && ByConversation.TryGetValue(subject, out var list) && list.Remove(e) && list.Count == 0)
                {
                    ByConversation.Remove(subject);
                }

                Ids.Remove(e.Id);
                PrunedThrough = Math.Max(PrunedThrough, e.Cursor);
            }

            _oldest = Events.Count == 0 ? DateTimeOffset.MaxValue : _outOfOrder ? Events.Min(e => e.Time) : Events[0].Time;
        }
    }

    /// <summary>An event with its cursor.</summary>
    private sealed record Entry(long Cursor, DomainEvent Event, string? Subject)
    {
        /// <summary>Replaced by <see cref="Erase"/>: the erased event keeps only its envelope and blanked data.</summary>
        public DomainEvent Event { get; private set; } = Event;

        /// <summary>The contact the event names (contact.*, inbound.received), kept past an erasure so it is found again.</summary>
        public string? ContactId { get; } = Event.Data switch
        {
            ContactChanged c => c.ContactId,
            InboundReceived i => i.ContactId,
            _ => null,
        };

        /// <summary>Blanks the personal fields (<see cref="DataProtection.PersonalFields"/>); false when there were none left.</summary>
        public bool Erase()
        {
            var json = Event.Data is ErasedData erased ? erased.Json : EventJson.Data(Event.Data);
            var blanked = DataProtection.PersonalFields.Blank(json);
            var causation = Event.Causation.Kind == Causation.Visitor && Event.Causation.Name is not null
                ? Event.Causation with { Name = null }
                : Event.Causation;
            if (blanked == json && causation == Event.Causation)
            {
                return false;
            }

            // The typed data (a message with its text) is dropped, not kept behind the blanked JSON.
            Event = Event with { Causation = causation, Data = new ErasedData(Event.Type, blanked) };
            return true;
        }

        public DateTimeOffset Time => Event.Time;

        public Ulid Id => Event.Id;

        public string Type => Event.Type;

        public StoredEvent Stored() =>
            new(Cursor, Event.Id, Event.Type, Event.Tenant, Event.ConversationId, Event.Seq, Event.Time, Event.Causation,
                Event.Data is ErasedData erased ? erased.Json : EventJson.Data(Event.Data));
    }

    /// <summary>An erased event's data: its type and blanked public JSON. Never leaves this process (not serialized).</summary>
    private sealed record ErasedData(string ErasedType, string Json) : EventData
    {
        public override string Type => ErasedType;
    }
}
