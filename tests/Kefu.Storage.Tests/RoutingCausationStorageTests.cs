using Kefu.Contracts.Events;
using Kefu.Contracts.Messages;
using Kefu.Grains.Events;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Kefu.Storage.Tests;

/// <summary>
/// deploy/mysql/010-routing.sql: an event a routing rule caused keeps its causation depth and trigger event in MySQL
/// (the router's loop guard reads the depth back), through the event log and through a message's own transaction.
/// </summary>
public sealed class RoutingCausationStorageTests : IAsyncLifetime
{
    private const string Tenant = "acme";

    private readonly MessageStoreDatabase _db = new();

    public Task InitializeAsync() => _db.InitializeAsync();

    public Task DisposeAsync() => _db.DisposeAsync();

    [Fact]
    public async Task Rule_causation_depth_and_trigger_round_trip_through_the_log_and_the_message_store()
    {
        var log = new MySqlEventLog(Options.Create(new MySqlMessageStoreOptions { ConnectionString = _db.ConnectionString }), Options.Create(new EventLogOptions()),
            TimeProvider.System, NullLogger<MySqlEventLog>.Instance);
        var trigger = Ulid.NewUlid().ToString();
        var now = DateTimeOffset.UtcNow;
        now = now.AddTicks(-(now.UtcTicks % 10));
        var cause = Causation.OfRule("order-sync", trigger, 1);
        var emitted = new DomainEvent(Ulid.NewUlid(), Tenant, null, 0, now, cause, new CustomEvent("custom.ping", """{"a":"1"}"""));
        var plain = new DomainEvent(Ulid.NewUlid(), Tenant, null, 0, now, Causation.Of("crm"), new CustomEvent("custom.pong", "{}"));
        var conversation = Ulid.NewUlid().ToString();
        var message = new ChatMessage(conversation, Ulid.NewUlid(), 1, new Sender(ParticipantRole.Bot, "rule:order-sync", "order-sync"), "您的订单#12345已更新", now, "k-1");
        var created = new DomainEvent(Ulid.NewUlid(), Tenant, conversation, 1, now, cause, new MessageCreated(message));

        await log.AppendAsync([emitted, plain]);
        await _db.Store().AppendAsync(Tenant, message, [created]);
        var page = await log.ReadAsync(Tenant, 0, ["custom.ping", "custom.pong", EventTypes.MessageCreated], 10);

        Assert.Equal(3, page.Events.Length);
        Assert.Equal(cause, page.Events.Single(e => e.Id == emitted.Id).Causation);
        Assert.Equal((2, trigger), (cause.Depth, cause.TriggerEventId));
        Assert.Equal(Causation.Of("crm"), page.Events.Single(e => e.Id == plain.Id).Causation);
        Assert.Equal(cause, page.Events.Single(e => e.Id == created.Id).Causation);
        await log.DisposeAsync();
    }
}
