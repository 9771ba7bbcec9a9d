using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Inbound;
using Kefu.Grains.Tests.Events;
using Kefu.Grains.Tests.Infrastructure;
using Orleans.TestingHost;

namespace Kefu.Grains.Tests.Inbound;

/// <summary>A silo whose inbound deduplication records last two seconds, so a test sees one expire.</summary>
public sealed class ShortDedupClusterFixture : IAsyncLifetime
{
    public static readonly TimeSpan Retention = TimeSpan.FromSeconds(2);

    private InProcessTestCluster? _cluster;

    public IClusterClient Client => (_cluster ?? throw new InvalidOperationException("The cluster is not started.")).Client;

    public async Task InitializeAsync() => _cluster = await KefuTestCluster.StartAsync(new Dictionary<string, string?>
    {
        [$"{InboundOptions.Section}:{nameof(InboundOptions.DedupRetention)}"] = Retention.ToString(),
    });

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}

/// <summary>
/// <see cref="IInboundEventGrain"/>: one record per sender id — the event names the key that caused it, a key restricted
/// to inboxes cannot address others, and after the retention window the id counts as new.
/// </summary>
public sealed class InboundEventGrainTests(ShortDedupClusterFixture fixture) : IClassFixture<ShortDedupClusterFixture>
{
    private static readonly Caller Key = new(Tenancy.DefaultTenant, ParticipantRole.Bot, "key-1", "ERP", IsAdmin: false, KeyId: "key-1");

    [Fact]
    public async Task An_accepted_event_names_the_key_and_a_replay_within_the_window_records_nothing()
    {
        var log = new EventLogReader(fixture.Client, Tenancy.DefaultTenant);
        await log.NewAsync();
        var inbound = Event("erp-" + Ulid.NewUlid());
        var grain = fixture.Client.GetGrain<IInboundEventGrain>(Tenancy.Key(Tenancy.DefaultTenant, inbound.SourceId));

        var first = (await grain.Accept(inbound, Key)).Value!;
        var again = (await grain.Accept(inbound, Key)).Value!;

        Assert.False(first.Replayed);
        Assert.Equal((first.EventId, true), (again.EventId, again.Replayed));
        var recorded = Assert.Single(await log.NewAsync(), e => e.Type == EventTypes.InboundReceived);
        Assert.Equal(first.EventId, recorded.Id.ToString());
        Assert.Equal(new Causation(Causation.ApiKey, "key-1", "ERP"), recorded.Causation);
        Assert.Equal(InboundErrors.IdempotencyMismatch, (await grain.Accept(inbound with { BodyHash = "other" }, Key)).Error?.Code);
    }

    [Fact]
    public async Task After_the_retention_window_the_same_id_counts_as_new()
    {
        var inbound = Event("erp-" + Ulid.NewUlid());
        var grain = fixture.Client.GetGrain<IInboundEventGrain>(Tenancy.Key(Tenancy.DefaultTenant, inbound.SourceId));
        var first = (await grain.Accept(inbound, Key)).Value!;

        var later = await Scenario.EventuallyAsync(async () => (await grain.Accept(inbound with { BodyHash = "changed" }, Key)),
            o => o.IsOk, "the record to expire", ShortDedupClusterFixture.Retention * 5);

        Assert.False(later.Value!.Replayed);
        Assert.NotEqual(first.EventId, later.Value.EventId);
    }

    [Fact]
    public async Task A_key_restricted_to_inboxes_cannot_address_a_contact_in_another()
    {
        var inbound = Event("erp-" + Ulid.NewUlid()) with { ExternalId = "u-" + Ulid.NewUlid(), InboxId = "default", AllowedInboxes = ["sales"] };
        var grain = fixture.Client.GetGrain<IInboundEventGrain>(Tenancy.Key(Tenancy.DefaultTenant, inbound.SourceId));

        var refused = await grain.Accept(inbound, Key);

        Assert.Equal(ErrorCodes.NotAllowed, refused.Error?.Code);
        Assert.Null(await fixture.Client.GetGrain<IContactIndexGrain>(Tenancy.Key(Tenancy.DefaultTenant, inbound.ExternalId!)).Find());
    }

    [Fact]
    public void Records_are_current_strictly_inside_the_window()
    {
        var at = new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
        Assert.True(InboundRecords.IsCurrent(at, at.AddHours(23.9), TimeSpan.FromHours(24)));
        Assert.False(InboundRecords.IsCurrent(at, at.AddHours(24), TimeSpan.FromHours(24)));
        Assert.True(InboundRecords.AllowsInbox(null, "a"));
        Assert.True(InboundRecords.AllowsInbox([], "a"));
        Assert.False(InboundRecords.AllowsInbox(["b"], "a"));
    }

    private static InboundEvent Event(string id) =>
        new(id, "order_status", null, null, null, null, """{"status":"shipped"}""", "hash-1", Tenancy.DefaultInbox, null);
}
