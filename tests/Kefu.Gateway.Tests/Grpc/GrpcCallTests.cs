using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using Kefu.Contracts.Integration;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.Grpc;

/// <summary>
/// gRPC Publish and SendMessage, authentication and scopes, health and reflection, and the port the services live on
/// (docs/integration.md §16).
/// </summary>
[Collection(GrpcGatewayCollection.Name)]
public sealed class GrpcCallTests(GrpcGatewayFixture gateway)
{
    [Fact]
    public async Task Publish_accepts_once_replays_the_same_body_and_refuses_another()
    {
        var (visitor, conversationId) = await gateway.StartConversationAsync();
        await using var _ = visitor;
        using var channel = gateway.Channel();
        var client = GrpcGatewayFixture.Client(channel, await gateway.CreateKeyAsync("events:write"));
        var body = new InboundEvent
        {
            Id = "erp-" + Ulid.NewUlid(),
            Type = "order_status",
            ConversationId = Bytes(conversationId),
            DataJson = """{"order_id":"12345","status":"shipped"}""",
        };

        var first = await client.PublishAsync(new PublishRequest { Event = body }, deadline: DateTime.UtcNow.AddSeconds(30));
        Assert.False(first.Replayed);
        Assert.NotEqual(default, Ulid.Parse(first.EventId));
        Assert.Equal(Bytes(conversationId), first.ConversationId);

        var again = await client.PublishAsync(new PublishRequest { Event = body });
        Assert.True(again.Replayed);
        Assert.Equal(first.EventId, again.EventId);

        var other = body.Clone();
        other.DataJson = """{"order_id":"12345","status":"lost"}""";
        var mismatch = await Assert.ThrowsAsync<RpcException>(() => client.PublishAsync(new PublishRequest { Event = other }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, mismatch.StatusCode);
        Assert.Equal("idempotency_mismatch", mismatch.Trailers.GetValue("kefu-code"));

        var invalid = await Assert.ThrowsAsync<RpcException>(() => client.PublishAsync(new PublishRequest { Event = new InboundEvent { Type = "order_status" } }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, invalid.StatusCode);
        Assert.NotNull(invalid.Trailers.GetValue("kefu-code"));
        var badJson = await Assert.ThrowsAsync<RpcException>(() => client.PublishAsync(new PublishRequest { Event = new InboundEvent { Id = "x-" + Ulid.NewUlid(), Type = "t", DataJson = "{" } }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, badJson.StatusCode);

        var unknown = await Assert.ThrowsAsync<RpcException>(() => client.PublishAsync(new PublishRequest
        {
            Event = new InboundEvent { Id = "x-" + Ulid.NewUlid(), Type = "order_status", ConversationId = Bytes(Ulid.NewUlid().ToString()) },
        }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("not_found", unknown.Trailers.GetValue("kefu-code"));
    }

    [Fact]
    public async Task The_publish_deadline_becomes_the_events_deadline_for_its_routes()
    {
        using var channel = gateway.Channel();
        var client = GrpcGatewayFixture.Client(channel, await gateway.CreateKeyAsync("events:write", "events:read"));
        var head = await GrpcSubscribeTests.CaughtUpCursorAsync(client);
        var id = "erp-" + Ulid.NewUlid();
        var deadline = DateTime.UtcNow.AddSeconds(5);
        await client.PublishAsync(new PublishRequest { Event = new InboundEvent { Id = id, Type = "order_status" } }, deadline: deadline);

        using var stream = new StreamReader(client.Subscribe(new SubscribeRequest { After = head, Types_ = { "inbound.received" } }));
        var received = (await stream.UntilAsync(m => m.Event is { } e && e.DataJson.Contains(id, StringComparison.Ordinal)))[^1].Event;
        var recorded = System.Text.Json.JsonDocument.Parse(received.DataJson).RootElement.GetProperty("deadline").GetDateTimeOffset();
        Assert.InRange(recorded, new DateTimeOffset(deadline).AddSeconds(-3), new DateTimeOffset(deadline).AddSeconds(1));

        // Without a deadline, none.
        var none = "erp-" + Ulid.NewUlid();
        await client.PublishAsync(new PublishRequest { Event = new InboundEvent { Id = none, Type = "order_status" } });
        var plain = (await stream.UntilAsync(m => m.Event is { } e && e.DataJson.Contains(none, StringComparison.Ordinal)))[^1].Event;
        Assert.False(System.Text.Json.JsonDocument.Parse(plain.DataJson).RootElement.TryGetProperty("deadline", out var value) && value.ValueKind != System.Text.Json.JsonValueKind.Null);
    }

    [Fact]
    public async Task A_published_event_for_a_contact_names_the_contact_and_its_conversation()
    {
        using var channel = gateway.Channel();
        var client = GrpcGatewayFixture.Client(channel, await gateway.CreateKeyAsync("events:write"));
        var answer = await client.PublishAsync(new PublishRequest
        {
            Event = new InboundEvent
            {
                Id = "crm-" + Ulid.NewUlid(),
                Type = "order_status",
                Contact = new InboundContact { ExternalId = "u-" + Ulid.NewUlid(), Name = "Bo" },
                DataJson = """{"order_id":"9"}""",
            },
        });
        Assert.False(answer.Replayed);
        Assert.True(answer.HasContactId);
        Assert.Equal(16, answer.ConversationId.Length);
    }

    [Fact]
    public async Task SendMessage_is_delivered_live_and_deduplicated_by_client_msg_id()
    {
        var (visitor, conversationId) = await gateway.StartConversationAsync();
        await using var _ = visitor;
        using var channel = gateway.Channel();
        var client = GrpcGatewayFixture.Client(channel, await gateway.CreateKeyAsync("messages:write"));
        var request = new SendMessageRequest { ConversationId = Bytes(conversationId), Text = "Your order has shipped.", ClientMsgId = "ship-1", SenderName = "Order bot" };

        var sent = (await client.SendMessageAsync(request, deadline: DateTime.UtcNow.AddSeconds(30))).Message;
        Assert.Equal(2, sent.Seq);
        Assert.Equal(Bytes(conversationId), sent.ConversationId);
        Assert.Equal("Order bot", sent.Sender.Name);
        Assert.Equal("ship-1", sent.ClientMsgId);
        Assert.Equal("Your order has shipped.", sent.Text);
        var messageId = new Ulid(sent.MessageId.Span).ToString();
        var pushed = (await visitor.ReceiveUntilAsync("message", f => f.Str("messageId") == messageId))[^1];
        Assert.Equal("bot", pushed.GetProperty("sender").Str("role"));

        var again = (await client.SendMessageAsync(request)).Message;
        Assert.Equal((sent.MessageId, 2L), (again.MessageId, again.Seq));
        Assert.Equal(3, (await client.SendMessageAsync(new SendMessageRequest { ConversationId = Bytes(conversationId), Text = "Delivered.", ClientMsgId = "ship-2" })).Message.Seq);

        foreach (var bad in new[]
                 {
                     new SendMessageRequest { Text = "hi", ClientMsgId = "a" },
                     new SendMessageRequest { ConversationId = Bytes(conversationId), ClientMsgId = "a" },
                     new SendMessageRequest { ConversationId = Bytes(conversationId), Text = "hi" },
                     new SendMessageRequest { ConversationId = Bytes(conversationId), Text = "hi", ClientMsgId = new string('c', 65) },
                 })
        {
            Assert.Equal(StatusCode.InvalidArgument, (await Assert.ThrowsAsync<RpcException>(() => client.SendMessageAsync(bad).ResponseAsync)).StatusCode);
        }

        var missing = await Assert.ThrowsAsync<RpcException>(() => client.SendMessageAsync(new SendMessageRequest { ConversationId = Bytes(Ulid.NewUlid().ToString()), Text = "hi", ClientMsgId = "a" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Missing_or_unknown_keys_are_unauthenticated_and_missing_scopes_permission_denied()
    {
        using var channel = gateway.Channel();
        var publish = new PublishRequest { Event = new InboundEvent { Id = "a-" + Ulid.NewUlid(), Type = "t" } };

        foreach (var token in new[] { null, "kefu_sk_nope", "kefu_sk_01jb0000000000000000000000" + new string('x', 43), "not-a-jwt" })
        {
            var client = GrpcGatewayFixture.Client(channel, token);
            var error = await Assert.ThrowsAsync<RpcException>(() => client.PublishAsync(publish).ResponseAsync);
            Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
            Assert.Equal("unauthorized", error.Trailers.GetValue("kefu-code"));
            var stream = await Assert.ThrowsAsync<RpcException>(async () =>
            {
                using var call = client.Subscribe(new SubscribeRequest());
                await call.ResponseStream.MoveNext(CancellationToken.None);
            });
            Assert.Equal(StatusCode.Unauthenticated, stream.StatusCode);
        }

        var reader = GrpcGatewayFixture.Client(channel, await gateway.CreateKeyAsync("events:read"));
        var denied = await Assert.ThrowsAsync<RpcException>(() => reader.PublishAsync(publish).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        Assert.Equal("missing_scope", denied.Trailers.GetValue("kefu-code"));
        Assert.Equal(StatusCode.PermissionDenied, (await Assert.ThrowsAsync<RpcException>(() =>
            reader.SendMessageAsync(new SendMessageRequest { ConversationId = Bytes(Ulid.NewUlid().ToString()), Text = "hi", ClientMsgId = "a" }).ResponseAsync)).StatusCode);
        var writer = GrpcGatewayFixture.Client(channel, await gateway.CreateKeyAsync("events:write"));
        var noRead = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = writer.Subscribe(new SubscribeRequest());
            await call.ResponseStream.MoveNext(CancellationToken.None);
        });
        Assert.Equal(StatusCode.PermissionDenied, noRead.StatusCode);

        // People: an agent may not; an admin may do everything, as on HTTP.
        var (_, agentToken) = await gateway.CreateAgentAsync();
        var agentError = await Assert.ThrowsAsync<RpcException>(() => GrpcGatewayFixture.Client(channel, agentToken).PublishAsync(publish).ResponseAsync);
        Assert.Equal((StatusCode.PermissionDenied, "not_allowed"), (agentError.StatusCode, agentError.Trailers.GetValue("kefu-code")));
        var admin = GrpcGatewayFixture.Client(channel, await gateway.LoginAsync());
        Assert.NotNull(await GrpcSubscribeTests.CaughtUpCursorAsync(admin));
    }

    [Fact]
    public async Task A_revoked_key_is_refused_on_the_next_call()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var key = await gateway.CreateKeyAsync("events:read");
        using var channel = gateway.Channel();
        var client = GrpcGatewayFixture.Client(channel, key);
        Assert.NotNull(await GrpcSubscribeTests.CaughtUpCursorAsync(client));

        var id = key.Substring("kefu_sk_".Length, 26);
        Assert.True((await admin.DeleteAsync($"/api/v1/api-keys/{id}")).IsSuccessStatusCode);
        var error = await Assert.ThrowsAsync<RpcException>(() => GrpcSubscribeTests.CaughtUpCursorAsync(client));
        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
    }

    [Fact]
    public async Task Health_says_serving_and_reflection_lists_the_service()
    {
        using var channel = gateway.Channel();
        var health = new Health.HealthClient(channel);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest())).Status);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving,
            (await health.CheckAsync(new HealthCheckRequest { Service = "kefu.integration.v1.Integration" })).Status);

        var reflection = new ServerReflection.ServerReflectionClient(channel);
        using var call = reflection.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains("kefu.integration.v1.Integration", services);
        Assert.Contains("grpc.health.v1.Health", services);
    }

    [Fact]
    public async Task The_http_port_does_not_serve_grpc()
    {
        using var channel = gateway.Channel(gateway.BaseUri);
        var health = new Health.HealthClient(channel);
        var error = await Assert.ThrowsAsync<RpcException>(() => health.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(20)).ResponseAsync);
        Assert.NotEqual(StatusCode.OK, error.StatusCode);

        // And the HTTP API is still on its own port.
        using var http = gateway.Http();
        Assert.True((await http.GetAsync("/healthz")).IsSuccessStatusCode);
        Assert.NotEqual(gateway.GrpcUri.Port, gateway.BaseUri.Port);
    }

    private static ByteString Bytes(string ulid) => ByteString.CopyFrom(Ulid.Parse(ulid).ToByteArray());
}
