using Kefu.Contracts.Messages;
using Kefu.Grains.Attachments;
using Kefu.Grains.DataProtection;
using Kefu.Grains.Events;
using Kefu.Grains.Retention;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Kefu.Grains.Tests.Retention;

/// <summary>
/// The retention job without a cluster: what a policy means as cutoffs (defaults filled in), what may be stored, and how
/// the job calls holders — per tenant with a policy, in chunks while a chunk comes back full, pausing between chunks,
/// bounded per run, going on past a failing holder.
/// </summary>
public sealed class RetentionJobTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
    private static readonly RetentionDefaults Defaults = new(AttachmentsDays: 90, EventRetention: TimeSpan.FromDays(30));

    [Fact]
    public void Cutoffs_come_from_the_policy_and_fall_back_to_the_defaults()
    {
        var own = RetentionRules.Cutoffs(new RetentionPolicy(365, 7, 3), Defaults, Now);
        Assert.Equal(new RetentionCutoffs(Now.AddDays(-365), Now.AddDays(-7), Now.AddDays(-3)), own);

        // Messages have no default (kept forever); attachments and events take the global settings.
        var defaults = RetentionRules.Cutoffs(RetentionPolicy.Default, Defaults, Now);
        Assert.Equal(new RetentionCutoffs(null, Now.AddDays(-90), Now.AddDays(-30)), defaults);

        // Attachments kept forever by default (RetentionDays 0) stay forever unless the tenant says otherwise.
        var forever = new RetentionDefaults(null, TimeSpan.FromDays(30));
        Assert.Null(RetentionRules.Cutoffs(RetentionPolicy.Default, forever, Now).AttachmentsBefore);
        Assert.Equal(Now.AddDays(-5), RetentionRules.Cutoffs(new RetentionPolicy(null, 5, null), forever, Now).AttachmentsBefore);
    }

    [Theory]
    [InlineData(0, null, null, "messagesDays")]
    [InlineData(null, 3651, null, "attachmentsDays")]
    [InlineData(null, null, -1, "eventsDays")]
    [InlineData(null, null, 31, "global event retention")]
    public void Out_of_range_days_are_refused_with_the_field_named(int? messages, int? attachments, int? events, string named)
    {
        var error = RetentionRules.Validate(new RetentionPolicy(messages, attachments, events), Defaults);
        Assert.NotNull(error);
        Assert.Equal(ErrorCodes.InvalidField, error.Code);
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Limits_and_defaults_are_accepted_and_attachments_may_outlive_their_default()
    {
        Assert.Null(RetentionRules.Validate(RetentionPolicy.Default, Defaults));
        Assert.Null(RetentionRules.Validate(new RetentionPolicy(1, 3650, 30), Defaults));
        Assert.Null(RetentionRules.Validate(new RetentionPolicy(3650, 1, 1), Defaults));
    }

    [Fact]
    public async Task Each_tenant_with_a_policy_is_pruned_chunk_by_chunk_until_a_chunk_is_not_full()
    {
        var time = new FakeTimeProvider(Now);
        var holder = new ScriptedHolder("messages", 3, 3, 1);
        var job = Job([holder], time, new RetentionOptions { ChunkSize = 3, ChunkPause = TimeSpan.Zero });

        var report = await job.RunAsync(new Dictionary<string, RetentionPolicy> { ["b"] = new(10, null, null), ["a"] = new(20, null, 5) }, CancellationToken.None);

        Assert.Equal(7, report.Deleted["messages"]);
        Assert.Equal(2, report.Tenants);

        // Tenants in order; tenant a gets the three chunks (3, 3, 1); tenant b one more call, which finds nothing.
        Assert.Equal(["a", "a", "a", "b"], holder.Calls.Select(c => c.Tenant));
        Assert.All(holder.Calls, c => Assert.Equal(3, c.Limit));
        Assert.Equal(new RetentionCutoffs(Now.AddDays(-20), Now.AddDays(-90), Now.AddDays(-5)), holder.Calls[0].Cutoffs);
        Assert.Equal(new RetentionCutoffs(Now.AddDays(-10), Now.AddDays(-90), Now.AddDays(-30)), holder.Calls[3].Cutoffs);
    }

    [Fact]
    public async Task The_job_pauses_between_full_chunks_so_writers_get_the_database()
    {
        var time = new FakeTimeProvider(Now);
        var holder = new ScriptedHolder("events", 2, 2, 0);
        var job = Job([holder], time, new RetentionOptions { ChunkSize = 2, ChunkPause = TimeSpan.FromSeconds(1) });

        var run = job.RunAsync(new Dictionary<string, RetentionPolicy> { ["t"] = new(null, null, 1) }, CancellationToken.None);
        Assert.Single(holder.Calls); // the first chunk, then the pause

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(2, holder.Calls.Count);
        Assert.False(run.IsCompleted);

        time.Advance(TimeSpan.FromSeconds(1));
        var report = await run;
        Assert.Equal(3, holder.Calls.Count);
        Assert.Equal(4, report.Deleted["events"]);
    }

    [Fact]
    public async Task A_run_stops_after_its_chunk_budget_and_a_failing_holder_does_not_stop_the_others()
    {
        var time = new FakeTimeProvider(Now);
        var endless = new ScriptedHolder("messages", Enumerable.Repeat(5, 100).ToArray());
        var failing = new FailingHolder();
        var after = new ScriptedHolder("attachments-like", 1);
        var job = Job([endless, failing, after], time, new RetentionOptions { ChunkSize = 5, ChunkPause = TimeSpan.Zero, MaxChunksPerRun = 4 });

        var report = await job.RunAsync(new Dictionary<string, RetentionPolicy> { ["t"] = new(1, null, null) }, CancellationToken.None);

        Assert.Equal(4, endless.Calls.Count);
        Assert.Equal(20, report.Deleted["messages"]);
        Assert.Equal(0, report.Deleted["broken"]);
        Assert.Single(after.Calls);
    }

    [Fact]
    public async Task Without_tenant_policies_only_the_default_attachment_sweep_runs()
    {
        var time = new FakeTimeProvider(Now);
        var holder = new ScriptedHolder("messages", 0);
        var report = await Job([holder], time, new RetentionOptions()).RunAsync(new Dictionary<string, RetentionPolicy>(), CancellationToken.None);
        Assert.Empty(holder.Calls);
        Assert.Equal(0, report.Tenants);
        Assert.Equal(0, report.Deleted[AttachmentRetention.HolderName]);
    }

    [Fact]
    public async Task The_in_memory_message_store_prunes_old_messages_and_keeps_the_newest_as_an_empty_anchor()
    {
        var store = new InMemoryMessageStore();
        var conversation = Ulid.NewUlid().ToString();
        var other = Ulid.NewUlid().ToString();
        var sender = new Sender(ParticipantRole.Visitor, "v1", "Ann");
        for (var seq = 1; seq <= 5; seq++)
        {
            await store.AppendAsync("t1", new ChatMessage(conversation, Ulid.NewUlid(), seq, sender, $"old {seq}", Now.AddDays(-10 + seq), null));
        }

        await store.AppendAsync("t1", new ChatMessage(other, Ulid.NewUlid(), 1, sender, "only", Now.AddDays(-9), null));
        await store.AppendAsync("t2", new ChatMessage(conversation, Ulid.NewUlid(), 1, sender, "other tenant", Now.AddDays(-9), null));

        // Cutoff: everything before day -6 (seq 1..3 of the conversation, the other conversation's only message).
        var cutoff = Now.AddDays(-6);
        var pruned = 0;
        int chunk;
        do
        {
            chunk = await store.PruneAsync("t1", cutoff, 2);
            pruned += chunk;
        }
        while (chunk == 2);

        Assert.Equal(4, pruned);
        Assert.Equal([4L, 5L], (await store.ReadAfterAsync("t1", conversation, 0, 10)).Select(m => m.Seq));
        Assert.Equal([5L], (await store.ReadAfterAsync("t1", conversation, 4, 10)).Select(m => m.Seq));

        // The newest message of a wholly old conversation stays as an anchor: seq kept, text and name gone.
        var anchor = Assert.Single(await store.ReadLatestAsync("t1", other, 10));
        Assert.Equal((1L, string.Empty, (string?)null), (anchor.Seq, anchor.Text, anchor.Sender.Name));
        Assert.Equal(0, await store.PruneAsync("t1", cutoff, 10));

        // The numbering continues; the other tenant is untouched.
        await store.AppendAsync("t1", new ChatMessage(conversation, Ulid.NewUlid(), 6, sender, "new", Now, null));
        await Assert.ThrowsAsync<MessageStoreConflictException>(async () =>
            await store.AppendAsync("t1", new ChatMessage(conversation, Ulid.NewUlid(), 3, sender, "reused seq", Now, null)));
        Assert.Equal([4L, 5L, 6L], (await store.ReadAfterAsync("t1", conversation, 0, 10)).Select(m => m.Seq));
        Assert.Equal("other tenant", Assert.Single(await store.ReadLatestAsync("t2", conversation, 10)).Text);
    }

    [Fact]
    public async Task The_in_memory_event_log_prunes_one_tenant_to_its_own_horizon()
    {
        var time = new FakeTimeProvider(Now);
        var log = new InMemoryEventLog(Options.Create(new EventLogOptions()), time);
        await log.AppendAsync([Event("t1", Now.AddDays(-10)), Event("t1", Now.AddDays(-1)), Event("t2", Now.AddDays(-10))]);

        Assert.Equal(1, await log.PruneTenantAsync("t1", Now.AddDays(-5), 100, CancellationToken.None));

        Assert.Single((await log.ReadAsync("t1", 0, null, 10)).Events);
        Assert.Single((await log.ReadAsync("t2", 0, null, 10)).Events);
    }

    private static Contracts.Events.DomainEvent Event(string tenant, DateTimeOffset at) =>
        new(Ulid.NewUlid(at), tenant, null, 0, at, Contracts.Events.Causation.Of("test"), new Contracts.Events.CustomEvent("custom.test", "{}"));

    private static RetentionJob Job(IRetentionHolder[] holders, FakeTimeProvider time, RetentionOptions options)
    {
        var attachmentOptions = Options.Create(new AttachmentOptions { RetentionDays = 90 });
        var store = new DiskAttachmentStore(Path.Combine(Path.GetTempPath(), "kefu-retention-job-" + Guid.NewGuid().ToString("N")));
        var attachments = new AttachmentRetention(store, null!, attachmentOptions, NullLogger<AttachmentRetention>.Instance); // an empty store releases nothing
        return new RetentionJob(holders, attachments, Options.Create(options), attachmentOptions, Options.Create(new EventLogOptions()), time, NullLogger<RetentionJob>.Instance);
    }

    private sealed class ScriptedHolder(string name, params int[] answers) : IRetentionHolder
    {
        public List<(string Tenant, RetentionCutoffs Cutoffs, int Limit)> Calls { get; } = [];

        public string Name => name;

        public Task<int> PruneAsync(string tenant, RetentionCutoffs cutoffs, int limit, CancellationToken cancellationToken)
        {
            Calls.Add((tenant, cutoffs, limit));
            return Task.FromResult(Calls.Count <= answers.Length ? answers[Calls.Count - 1] : 0);
        }
    }

    private sealed class FailingHolder : IRetentionHolder
    {
        public string Name => "broken";

        public Task<int> PruneAsync(string tenant, RetentionCutoffs cutoffs, int limit, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("the store is down");
    }
}
