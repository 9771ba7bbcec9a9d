using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Grains.Directory;
using Kefu.Grains.Events;
using Kefu.Grains.Events.Sinks;
using Kefu.Grains.Hosting;
using Kefu.Grains.Push;
using Kefu.Grains.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Kefu.Grains.Tests.Events;

/// <summary>The push and directory sinks without a cluster.</summary>
public sealed class SinkTests
{
    private const string VisitorKey = "t/visitor/v1";
    private const string AgentKey = "t/agent/a1";
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    private static ConversationSummary Summary(string status = ConversationStatus.Open, string? preview = null, string id = "c1") =>
        new(id, "t", "default", "v1", null, status, "a1", 3, T0, ["a1"], Team: "billing", Tags: ["vip"], Priority: ConversationPriority.Urgent,
            ReadMarks: new() { [VisitorKey] = 2, [AgentKey] = 3 }, Preview: preview, Unread: 4);

    private static DomainEvent Event(EventData data, long seq = 1) =>
        new(Ulid.NewUlid(), "t", "c1", seq, T0, Causation.Of("test"), data);

    private static ChatMessage Message(long seq) =>
        new("c1", Ulid.NewUlid(), seq, new Sender(ParticipantRole.Visitor, "v1", null), $"m{seq}", T0, $"c-{seq}");

    private static CommittedChange Change(AudienceSnapshot audience, string? origin, params DomainEvent[] events) =>
        new("t", "c1", events, Summary(), audience, origin);

    private static (PushSink Sink, FakeGatewayObserver Gateway1, FakeGatewayObserver Gateway2, AudienceSnapshot Audience) PushSetup()
    {
        var locals = new LocalGateways();
        var (gw1, gw2) = (new FakeGatewayObserver(), new FakeGatewayObserver());
        locals.Add("gw-1", gw1);
        locals.Add("gw-2", gw2);
        var sink = new PushSink(new GatewayPusher(null!, locals, NullLogger<GatewayPusher>.Instance));
        var audience = new AudienceSnapshot(VisitorKey, new Dictionary<string, string[]>
        {
            [VisitorKey] = ["gw-1"],
            [AgentKey] = ["gw-1", "gw-2"],
        });
        return (sink, gw1, gw2, audience);
    }

    [Fact]
    public void AMessageGoesToEveryParticipantOncePerGatewayButNotToTheSendingConnection()
    {
        var (sink, gw1, gw2, audience) = PushSetup();
        sink.OnCommitted(Change(audience, "conn-sender", Event(new MessageCreated(Message(3)))));

        var onGateway1 = Assert.Single(gw1.Received);
        Assert.Equal([AgentKey, VisitorKey], onGateway1.Recipients.Order(StringComparer.Ordinal));
        Assert.Equal("conn-sender", onGateway1.ExcludeConnectionId);
        Assert.IsType<MessageEvent>(onGateway1.Event);
        Assert.Equal([AgentKey], Assert.Single(gw2.Received).Recipients);
    }

    [Fact]
    public void ANoteGoesToAgentsOnlyAndASummaryChangeIsFilteredForTheVisitor()
    {
        var (sink, gw1, _, audience) = PushSetup();
        var note = new InternalNote("n1", "c1", new Sender(ParticipantRole.Agent, "a1", null), "internal", T0);
        sink.OnCommitted(Change(audience, null, Event(new NoteCreated(note))));
        Assert.DoesNotContain(gw1.Received, e => e.Recipients.Contains(VisitorKey));
        Assert.Contains(gw1.Received, e => e.Event is NoteEvent && e.Recipients.SequenceEqual([AgentKey]));

        // Two lifecycle events in one change: one summary push each way.
        sink.OnCommitted(Change(
            audience,
            null,
            Event(new ConversationStatusChanged(ConversationStatus.Queued, ConversationStatus.Open, Summary()), 4),
            Event(new ConversationAssigned("a1", null, null, Summary()), 5)));
        var summaries = gw1.Received.Where(e => e.Event is ConversationEvent).ToArray();
        Assert.Equal(2, summaries.Length);
        var forAgent = (ConversationEvent)summaries.Single(e => e.Recipients.SequenceEqual([AgentKey])).Event;
        Assert.Equal(["vip"], forAgent.Summary.Tags!);
        var forVisitor = (ConversationEvent)summaries.Single(e => e.Recipients.SequenceEqual([VisitorKey])).Event;
        Assert.Empty(forVisitor.Summary.Tags!);
        Assert.Null(forVisitor.Summary.Team);
        Assert.Equal(ConversationPriority.Normal, forVisitor.Summary.Priority);
        Assert.Equal(0, forVisitor.Summary.Unread);
        Assert.Equal(new Dictionary<string, long> { [VisitorKey] = 2 }, forVisitor.Summary.ReadMarks);
    }

    [Fact]
    public void ASignalSkipsWhoCausedItAndCanTargetTheVisitor()
    {
        var (sink, gw1, gw2, audience) = PushSetup();
        sink.Signal(audience, new TypingEvent("c1", new Sender(ParticipantRole.Visitor, "v1", null), true), SignalAudience.Everyone, exceptParticipant: VisitorKey);
        Assert.Equal([AgentKey], Assert.Single(gw1.Received).Recipients);
        Assert.Single(gw2.Received);

        sink.Signal(audience, new QueueEvent("c1", 2), SignalAudience.Visitor);
        Assert.Equal([VisitorKey], gw1.Received[^1].Recipients);
        Assert.Single(gw2.Received);
    }

    [Fact]
    public async Task TheDirectoryRowGetsALifecycleChangeAtOnceAndMessagesAtMostOncePerInterval()
    {
        var time = new FakeTimeProvider(T0);
        var directory = new RecordingDirectory();
        await using var sink = new DirectorySink(directory, Options.Create(new ConversationOptions { DirectoryWriteInterval = TimeSpan.FromSeconds(1) }), time, NullLogger<DirectorySink>.Instance);
        var audience = new AudienceSnapshot(VisitorKey, new Dictionary<string, string[]>());

        // The first change of a conversation: written at once.
        sink.OnCommitted(new CommittedChange("t", "c1", [Event(new MessageCreated(Message(1)))], Summary(preview: "m1"), audience));
        await directory.WaitForAsync(1);

        // More messages within the interval: held back, then one write with the newest.
        for (var seq = 2; seq <= 20; seq++)
        {
            sink.OnCommitted(new CommittedChange("t", "c1", [Event(new MessageCreated(Message(seq)))], Summary(preview: $"m{seq}"), audience));
        }

        await Settled(sink);
        time.Advance(TimeSpan.FromMilliseconds(900));
        Assert.Equal(1, directory.Count);
        time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal("m20", (await directory.WaitForAsync(2)).Preview);

        // A note changes nothing the list shows; a status change is written at once, inside the interval.
        var note = new InternalNote("n1", "c1", new Sender(ParticipantRole.Agent, "a1", null), "internal", T0);
        sink.OnCommitted(new CommittedChange("t", "c1", [Event(new NoteCreated(note))], Summary(preview: "m20"), audience));
        sink.OnCommitted(new CommittedChange("t", "c1", [Event(new ConversationStatusChanged(ConversationStatus.Open, ConversationStatus.Resolved, Summary(ConversationStatus.Resolved)))], Summary(ConversationStatus.Resolved, "m20"), audience));
        Assert.Equal(ConversationStatus.Resolved, (await directory.WaitForAsync(3)).Status);
        Assert.Equal(3, directory.Count);

        // Other conversations are not held back by this one.
        sink.OnCommitted(new CommittedChange("t", "c2", [Event(new MessageCreated(Message(1)))], Summary(id: "c2"), audience));
        Assert.Equal("c2", (await directory.WaitForAsync(4)).ConversationId);

        // Quiet for an interval: forgotten (no memory per conversation ever seen), and nothing more written.
        await Settled(sink);
        time.Advance(TimeSpan.FromSeconds(1));
        await Scenario.EventuallyAsync(() => Task.FromResult(sink.Remembered), r => r == 0, "the quiet rows to be forgotten");
        Assert.Equal(4, directory.Count);
    }

    [Fact]
    public async Task AFailedDirectoryWriteIsRetriedAfterTheIntervalWithTheNewestSummary()
    {
        var time = new FakeTimeProvider(T0);
        var directory = new RecordingDirectory { Failing = true };
        await using var sink = new DirectorySink(directory, Options.Create(new ConversationOptions()), time, NullLogger<DirectorySink>.Instance);
        var audience = new AudienceSnapshot(VisitorKey, new Dictionary<string, string[]>());

        sink.OnCommitted(new CommittedChange("t", "c1", [Event(new ConversationCreated(Summary(ConversationStatus.Queued)))], Summary(ConversationStatus.Queued), audience));
        await Scenario.EventuallyAsync(() => Task.FromResult(directory.Attempts), a => a == 1, "the first attempt");
        directory.Failing = false;
        sink.OnCommitted(new CommittedChange("t", "c1", [Event(new MessageCreated(Message(1)))], Summary(ConversationStatus.Queued, "m1"), audience));

        await Settled(sink);
        time.Advance(TimeSpan.FromSeconds(1));
        var written = await directory.WaitForAsync(1);
        Assert.Equal("m1", written.Preview);
    }

    /// <summary>No write is between its store call and scheduling the next: the fake clock may move.</summary>
    private static Task<int> Settled(DirectorySink sink) =>
        Scenario.EventuallyAsync(() => Task.FromResult(sink.Writing), w => w == 0, "the directory writes to settle");

    [Fact]
    public void ASinkThatThrowsNeitherStopsTheOthersNorTheCommit()
    {
        var (push, gw1, _, audience) = PushSetup();
        var after = new RecordingSink();
        var sinks = new ConversationSinks([new ThrowingSink(), push, after], push, new TenantConsoleSink(null!), NullLogger<ConversationSinks>.Instance);

        sinks.Committed(Change(audience, null, Event(new MessageCreated(Message(1)))));
        Assert.Single(gw1.Received);
        Assert.Single(after.Changes);
    }

    [Fact]
    public void TheConversationGrainHoldsNoPushRoutingOrDirectoryCode()
    {
        // It decides and commits; what follows goes through the sinks (issue #13, item 3).
        var parameters = typeof(Conversations.ConversationGrain).GetConstructors().Single().GetParameters().Select(p => p.ParameterType).ToArray();
        Assert.Contains(typeof(ConversationSinks), parameters);
        Assert.DoesNotContain(typeof(GatewayPusher), parameters);
        Assert.DoesNotContain(typeof(IConversationDirectory), parameters);
        Assert.DoesNotContain(typeof(Conversations.ConversationGrain).GetFields(System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic), f => f.FieldType == typeof(GatewayPusher) || f.FieldType == typeof(IConversationDirectory));
    }

    private sealed class ThrowingSink : IConversationEventSink
    {
        public void OnCommitted(CommittedChange change) => throw new InvalidOperationException("A broken sink.");
    }

    private sealed class RecordingSink : IConversationEventSink
    {
        public List<CommittedChange> Changes { get; } = [];

        public void OnCommitted(CommittedChange change) => Changes.Add(change);
    }

    /// <summary>Records every upsert; lets a test wait for the n-th.</summary>
    private sealed class RecordingDirectory : IConversationDirectory
    {
        private readonly List<ConversationSummary> _written = [];
        private int _attempts;

        public bool Failing { get; set; }

        public int Attempts => Volatile.Read(ref _attempts);

        public int Count
        {
            get
            {
                lock (_written)
                {
                    return _written.Count;
                }
            }
        }

        public ValueTask UpsertAsync(ConversationSummary summary, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _attempts);
            if (Failing)
            {
                throw new InvalidOperationException("The directory is down.");
            }

            lock (_written)
            {
                _written.Add(summary);
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask<IReadOnlyList<ConversationSummary>> ListAsync(string tenant, ConversationQuery query, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        /// <summary>The <paramref name="count"/>-th write, once it happened.</summary>
        public async Task<ConversationSummary> WaitForAsync(int count)
        {
            await Scenario.EventuallyAsync(() => Task.FromResult(Count), c => c >= count, $"directory write {count}");
            lock (_written)
            {
                return _written[count - 1];
            }
        }
    }
}
