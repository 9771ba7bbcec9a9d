using Google.Protobuf;
using Grpc.Core;
using Kefu.Contracts.Events;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Integration;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Tests.Infrastructure;
using Kefu.Grains.Events;
using Microsoft.Extensions.DependencyInjection;

namespace Kefu.Gateway.Tests.Grpc;

/// <summary>
/// gRPC Subscribe (docs/integration.md §16): history, CaughtUp, live events, heartbeats, resume with no gap and no
/// duplicate, and the statuses of bad cursors, pruned cursors and deadlines.
/// </summary>
[Collection(GrpcGatewayCollection.Name)]
public sealed class GrpcSubscribeTests(GrpcGatewayFixture gateway)
{
    [Fact]
    public async Task Subscribe_from_the_start_sees_the_history_then_caught_up_then_live_events()
    {
        var (visitor, conversationId) = await gateway.StartConversationAsync("history one");
        await using var _ = visitor;
        await visitor.SendMessageAsync("history two", conversationId);
        using var channel = gateway.Channel();
        var client = GrpcGatewayFixture.Client(channel, await gateway.CreateKeyAsync("events:read", "messages:write", "events:write"));

        using var stream = new StreamReader(client.Subscribe(new SubscribeRequest()));
        var history = await stream.UntilAsync(m => m.KindCase == SubscribeResponse.KindOneofCase.CaughtUp);
        var mine = Messages(history, conversationId);
        Assert.Equal(["history one", "history two"], mine.Select(StreamReader.DataText));
        var caughtUp = history[^1].CaughtUp.Cursor;
        Assert.Equal(history.Where(m => m.Event is not null).Select(m => m.Event.Cursor).Max(StringComparer.Ordinal), caughtUp);
        AssertIncreasing(history);

        // Live: a visitor's message and a published business event, both after CaughtUp.
        await visitor.SendMessageAsync("live three", conversationId);
        var live = await stream.UntilAsync(m => Messages([m], conversationId).Any(e => StreamReader.DataText(e) == "live three"));
        Assert.True(string.CompareOrdinal(live[^1].Event.Cursor, caughtUp) > 0);
        Assert.True(live[^1].Event.Seq > mine[^1].Event.Seq); // the conversation's event sequence
        Assert.Equal(Ulid.Parse(conversationId).ToByteArray(), live[^1].Event.ConversationId.ToByteArray());

        var sourceId = "grpc-live-" + Ulid.NewUlid();
        await client.PublishAsync(new PublishRequest
        {
            Event = new InboundEvent { Id = sourceId, Type = "order_status", ConversationId = ByteString.CopyFrom(Ulid.Parse(conversationId).ToByteArray()), DataJson = """{"order_id":"1"}""" },
        });
        var inbound = await stream.UntilAsync(m => m.Event is { Type: EventTypes.InboundReceived } e && e.DataJson.Contains(sourceId, StringComparison.Ordinal));
        Assert.Equal(Tenancy.DefaultTenant, inbound[^1].Event.Tenant);
        AssertIncreasing(stream.Seen);
    }

    [Fact]
    public async Task Resuming_after_the_last_cursor_has_no_gap_and_no_duplicate()
    {
        var (visitor, conversationId) = await gateway.StartConversationAsync("m1");
        await using var _ = visitor;
        using var channel = gateway.Channel();
        var client = GrpcGatewayFixture.Client(channel, await gateway.CreateKeyAsync("events:read", "messages:write"));
        var head = await CaughtUpCursorAsync(client);
        var types = new SubscribeRequest { After = head, Types_ = { EventTypes.MessageCreated } };

        var received = new List<SubscribeResponse>();
        string last;
        using (var first = new StreamReader(client.Subscribe(types)))
        {
            await first.UntilAsync(m => m.CaughtUp is not null);
            for (var i = 2; i <= 5; i++)
            {
                await Bot(client, conversationId, "m" + i);
            }

            received.AddRange(Messages(await first.UntilAsync(m => Messages([m], conversationId).Any(e => StreamReader.DataText(e) == "m3")), conversationId));
            last = first.Seen.Last(m => m.Event is not null).Event.Cursor;
        }

        // Disconnected: more happens meanwhile.
        for (var i = 6; i <= 8; i++)
        {
            await Bot(client, conversationId, "m" + i);
        }

        using (var second = new StreamReader(client.Subscribe(new SubscribeRequest { After = last, Types_ = { EventTypes.MessageCreated } })))
        {
            var rest = await second.UntilAsync(m => Messages([m], conversationId).Any(e => StreamReader.DataText(e) == "m8"));
            Assert.All(rest.Where(m => m.Event is not null), m => Assert.True(string.CompareOrdinal(m.Event.Cursor, last) > 0));
            received.AddRange(Messages(rest, conversationId));
        }

        Assert.Equal(Enumerable.Range(2, 7).Select(i => "m" + i), received.Select(StreamReader.DataText));
        var seqs = received.Select(m => m.Event.Seq).ToList();
        Assert.Equal(seqs.Order(), seqs);
        Assert.Equal(received.Count, received.Select(m => m.Event.Id).Distinct().Count());
    }

    [Fact]
    public async Task A_quiet_stream_gets_heartbeats_with_the_current_cursor()
    {
        using var channel = gateway.Channel();
        var client = GrpcGatewayFixture.Client(channel, await gateway.CreateKeyAsync("events:read"));

        // A type nothing in these tests produces: the stream stays quiet.
        using var stream = new StreamReader(client.Subscribe(new SubscribeRequest { Types_ = { EventTypes.WebhookEndpointDisabled } }));
        var caughtUp = (await stream.UntilAsync(m => m.CaughtUp is not null))[^1].CaughtUp.Cursor;
        var heartbeat = (await stream.UntilAsync(m => m.Heartbeat is not null))[^1].Heartbeat;
        Assert.True(EventCursor.TryParse(heartbeat.Cursor, out _));
        Assert.True(string.CompareOrdinal(heartbeat.Cursor, caughtUp) >= 0);
        Assert.InRange(DateTimeOffset.FromUnixTimeMilliseconds(heartbeat.Time / 1000), DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));

        // The cursor follows events the filter skips, so a resume from it does not scan them again.
        var (visitor, _) = await gateway.StartConversationAsync("skipped by the filter");
        await using var __ = visitor;
        var head = await CaughtUpCursorAsync(client);
        await stream.UntilAsync(m => m.Heartbeat is not null && string.CompareOrdinal(m.Heartbeat.Cursor, head) >= 0);
    }

    [Fact]
    public async Task Internal_notes_come_live_only_to_those_who_name_them()
    {
        using var channel = gateway.Channel();
        var client = GrpcGatewayFixture.Client(channel, await gateway.CreateKeyAsync("events:read"));
        var head = await CaughtUpCursorAsync(client);
        using var notes = new StreamReader(client.Subscribe(new SubscribeRequest { After = head, Types_ = { EventTypes.NoteCreated } }));
        using var everything = new StreamReader(client.Subscribe(new SubscribeRequest { After = head }));
        await notes.UntilAsync(m => m.CaughtUp is not null);
        await everything.UntilAsync(m => m.CaughtUp is not null);

        var conversation = Ulid.NewUlid().ToString();
        var log = gateway.Services.GetRequiredService<IEventLog>();
        await log.AppendAsync([new DomainEvent(Ulid.NewUlid(), Tenancy.DefaultTenant, conversation, 1, DateTimeOffset.UtcNow, new Causation(Causation.Agent, "alice"),
            new NoteCreated(new InternalNote("n-1", conversation, new Sender(ParticipantRole.Agent, "alice", "Alice"), "internal", DateTimeOffset.UtcNow)))]);
        await log.AppendAsync([Message(DateTimeOffset.UtcNow)]);

        var note = (await notes.UntilAsync(m => m.Event is not null))[^1].Event;
        Assert.Equal(EventTypes.NoteCreated, note.Type);
        var seen = await everything.UntilAsync(m => m.Event is { Type: EventTypes.MessageCreated });
        Assert.DoesNotContain(seen, m => m.Event is { Type: EventTypes.NoteCreated });
    }

    [Fact]
    public async Task Bad_cursors_and_types_are_invalid_arguments()
    {
        using var channel = gateway.Channel();
        var client = GrpcGatewayFixture.Client(channel, await gateway.CreateKeyAsync("events:read"));
        foreach (var request in new[]
                 {
                     new SubscribeRequest { After = "not-a-cursor" },
                     new SubscribeRequest { After = "00000000000000AB" },
                     new SubscribeRequest { Types_ = { "no.such_type" } },
                 })
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => FirstAsync(client.Subscribe(request)));
            Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
            Assert.Equal(request.After.Length > 0 ? "invalid_cursor" : "invalid_field", error.Trailers.GetValue("kefu-code"));
        }
    }

    [Fact]
    public async Task A_cursor_behind_retention_is_out_of_range()
    {
        using var channel = gateway.Channel();
        var client = GrpcGatewayFixture.Client(channel, await gateway.CreateKeyAsync("events:read"));
        var head = await CaughtUpCursorAsync(client);

        // Older than the retention (30 days): the in-memory log drops it as it stores the next event.
        var log = gateway.Services.GetRequiredService<IEventLog>();
        await log.AppendAsync([Message(DateTimeOffset.UtcNow.AddDays(-31))]);
        await log.AppendAsync([Message(DateTimeOffset.UtcNow)]);

        var error = await Assert.ThrowsAsync<RpcException>(() => FirstAsync(client.Subscribe(new SubscribeRequest { After = head })));
        Assert.Equal(StatusCode.OutOfRange, error.StatusCode);
        Assert.Equal("cursor_expired", error.Trailers.GetValue("kefu-code"));

        // From the oldest retained event it still works.
        Assert.NotNull(await CaughtUpCursorAsync(client));
    }

    [Fact]
    public async Task An_exceeded_deadline_ends_the_stream_with_deadline_exceeded()
    {
        using var channel = gateway.Channel();
        var client = GrpcGatewayFixture.Client(channel, await gateway.CreateKeyAsync("events:read"));
        using var call = client.Subscribe(new SubscribeRequest(), deadline: DateTime.UtcNow.AddSeconds(2));
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
        });
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
    }

    [Fact]
    public async Task Subscribers_of_a_tenant_share_one_tail()
    {
        using var channel = gateway.Channel();
        var client = GrpcGatewayFixture.Client(channel, await gateway.CreateKeyAsync("events:read"));
        var streams = Enumerable.Range(0, 5).Select(_ => new StreamReader(client.Subscribe(new SubscribeRequest()))).ToList();
        try
        {
            foreach (var stream in streams)
            {
                await stream.UntilAsync(m => m.CaughtUp is not null);
            }

            var tails = gateway.Services.GetRequiredService<Gateway.Grpc.EventTails>();
            await Eventually(() => tails.Count == 1);
            var (visitor, conversationId) = await gateway.StartConversationAsync("to everyone");
            await using var _ = visitor;
            foreach (var stream in streams)
            {
                await stream.UntilAsync(m => Messages([m], conversationId).Any());
            }
        }
        finally
        {
            streams.ForEach(s => s.Dispose());
        }

        // The last subscriber gone, the tail stops.
        await Eventually(() => gateway.Services.GetRequiredService<Gateway.Grpc.EventTails>().Count == 0);
    }

    [Fact]
    public async Task A_made_up_cursor_past_the_head_does_not_hold_back_other_subscribers()
    {
        using var channel = gateway.Channel();
        var client = GrpcGatewayFixture.Client(channel, await gateway.CreateKeyAsync("events:read"));
        var tails = gateway.Services.GetRequiredService<Gateway.Grpc.EventTails>();
        await Eventually(() => tails.Count == 0);

        // The first subscriber (it starts the tenant's tail) asks for events after a cursor nobody handed out.
        using var future = new StreamReader(client.Subscribe(new SubscribeRequest { After = "7fffffffffff0000" }));
        Assert.Equal("7fffffffffff0000", (await future.UntilAsync(m => m.CaughtUp is not null))[^1].CaughtUp.Cursor);
        await Eventually(() => tails.Count == 1);

        using var honest = new StreamReader(client.Subscribe(new SubscribeRequest()));
        await honest.UntilAsync(m => m.CaughtUp is not null);
        var (visitor, conversationId) = await gateway.StartConversationAsync("seen live");
        await using var _ = visitor;
        await honest.UntilAsync(m => Messages([m], conversationId).Any());
    }

    internal static async Task<string> CaughtUpCursorAsync(Integration.IntegrationClient client)
    {
        using var stream = new StreamReader(client.Subscribe(new SubscribeRequest()));
        return (await stream.UntilAsync(m => m.CaughtUp is not null))[^1].CaughtUp.Cursor;
    }

    private static async Task<SubscribeResponse?> FirstAsync(AsyncServerStreamingCall<SubscribeResponse> call)
    {
        using (call)
        {
            return await call.ResponseStream.MoveNext(CancellationToken.None) ? call.ResponseStream.Current : null;
        }
    }

    private static Task Bot(Integration.IntegrationClient client, string conversationId, string text) =>
        client.SendMessageAsync(new SendMessageRequest
        {
            ConversationId = ByteString.CopyFrom(Ulid.Parse(conversationId).ToByteArray()),
            Text = text,
            ClientMsgId = text,
        }).ResponseAsync;

    private static List<SubscribeResponse> Messages(IEnumerable<SubscribeResponse> read, string conversationId)
    {
        var id = Ulid.Parse(conversationId).ToByteArray();
        return [.. read.Where(m => m.Event is { Type: EventTypes.MessageCreated } e && e.ConversationId.ToByteArray().SequenceEqual(id))];
    }

    private static void AssertIncreasing(List<SubscribeResponse> read)
    {
        var cursors = read.Where(m => m.Event is not null).Select(m => m.Event.Cursor).ToList();
        Assert.Equal(cursors.Order(StringComparer.Ordinal), cursors);
        Assert.Equal(cursors.Count, cursors.Distinct().Count());
    }

    private static async Task Eventually(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not hold within 20 s.");
            await Task.Delay(20);
        }
    }

    private static DomainEvent Message(DateTimeOffset at)
    {
        var conversation = Ulid.NewUlid().ToString();
        var message = new ChatMessage(conversation, Ulid.NewUlid(), 1, new Sender(ParticipantRole.Visitor, "v-1", "Visitor"), "old", at, null);
        return new DomainEvent(Ulid.NewUlid(), Tenancy.DefaultTenant, conversation, 1, at, new Causation(Causation.Visitor, "v-1", "Visitor"), new MessageCreated(message));
    }
}
