using System.Net.Http.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Integration;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Grpc;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;
using Kefu.Grains.Events;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Kefu.Gateway.Tests.Grpc;

/// <summary>
/// The shared tail and a subscriber's catching up (gateway/Grpc/EventTails.cs, EventSubscriber.cs) against the test
/// gateway's event log, without a gRPC stream in between: a subscriber that does not keep up is dropped from the tail,
/// reads what it missed from the log and rejoins, with no gap and no duplicate.
/// </summary>
[Collection(GrpcGatewayCollection.Name)]
public sealed class GrpcTailTests(GrpcGatewayFixture gateway)
{
    [Fact]
    public async Task A_slow_subscriber_falls_back_to_the_log_and_misses_nothing()
    {
        var options = new KefuGrpcOptions
        {
            HeartbeatInterval = TimeSpan.FromSeconds(30),
            PollInterval = TimeSpan.FromMilliseconds(10),
            SubscriberBuffer = 5,
            PageSize = 7,
        };
        var grains = gateway.Services.GetRequiredService<IGrainFactory>();
        await using var tails = new EventTails(grains, Options.Create(options), TimeProvider.System, NullLogger<EventTails>.Instance);
        var conversation = Ulid.NewUlid().ToString();
        var subscriber = new EventSubscriber(grains, tails, TimeProvider.System, Tenancy.DefaultTenant, [EventTypes.MessageCreated], options);

        var received = new List<SubscribeResponse>();
        var caughtUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var release = new SemaphoreSlim(0);
        var gateOpen = false;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var run = subscriber.RunAsync(null, async message =>
        {
            if (message.CaughtUp is not null)
            {
                caughtUp.TrySetResult();
                return;
            }

            // The stream is stuck (the client does not read) until the test lets it go.
            if (!gateOpen)
            {
                await release.WaitAsync(stop.Token);
                gateOpen = true;
            }

            if (message.Event is { } e && Ulid.TryParse(e.DataJson.Length > 0 ? Conversation(e) : "", out _) && Conversation(e) == conversation)
            {
                lock (received)
                {
                    received.Add(message);
                }
            }
        }, stop.Token);
        await caughtUp.Task.WaitAsync(stop.Token);

        // Far more than the buffer while the subscriber is stuck on its first event.
        var log = gateway.Services.GetRequiredService<IEventLog>();
        for (var seq = 1; seq <= 60; seq++)
        {
            await log.AppendAsync([Message(conversation, seq)]);
        }

        var reads = tails.Reads;
        while (tails.Reads < reads + 5)
        {
            await Task.Delay(10, stop.Token);
        }

        release.Release();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Count(received) < 60 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, stop.Token);
        }

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.True(tails.Dropped > 0, "The subscriber was never dropped from the tail.");
        lock (received)
        {
            Assert.Equal(Enumerable.Range(1, 60).Select(i => (long)i), received.Select(m => m.Event.Seq));
        }
    }

    private static int Count(List<SubscribeResponse> received)
    {
        lock (received)
        {
            return received.Count;
        }
    }

    private static string Conversation(Kefu.Contracts.Protocol.EventEnvelope e) =>
        e.ConversationId.Length == 16 ? new Ulid(e.ConversationId.Span).ToString() : string.Empty;

    private static DomainEvent Message(string conversation, long seq)
    {
        var at = DateTimeOffset.UtcNow;
        var message = new ChatMessage(conversation, Ulid.NewUlid(), seq, new Sender(ParticipantRole.Visitor, "v-1", "Visitor"), "m" + seq, at, null);
        return new DomainEvent(Ulid.NewUlid(), Tenancy.DefaultTenant, conversation, seq, at, new Causation(Causation.Visitor, "v-1", "Visitor"), new MessageCreated(message));
    }
}

/// <summary>Gateways of their own: shutdown and the per-key rate limit.</summary>
public sealed class GrpcLifecycleTests
{
    [Fact]
    public async Task Stopping_the_gateway_ends_subscribe_streams_with_unavailable_at_once()
    {
        var gateway = new GrpcGatewayFixture();
        await gateway.InitializeAsync();
        Task? stopping = null;
        try
        {
            using var channel = gateway.Channel();
            var client = GrpcGatewayFixture.Client(channel, await gateway.CreateKeyAsync("events:read"));
            using var stream = new StreamReader(client.Subscribe(new SubscribeRequest()));
            await stream.UntilAsync(m => m.CaughtUp is not null);

            var stopwatch = System.Diagnostics.Stopwatch.StartNew();
            stopping = gateway.DisposeAsync();
            var error = await Assert.ThrowsAsync<RpcException>(async () =>
            {
                while (true)
                {
                    await stream.NextAsync();
                }
            });
            Assert.Equal(StatusCode.Unavailable, error.StatusCode);
            Assert.Equal("unavailable", error.Trailers.GetValue("kefu-code"));
            await stopping;
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(20), $"Stopping took {stopwatch.Elapsed}.");
        }
        finally
        {
            await (stopping ?? gateway.DisposeAsync());
        }
    }

    [Fact]
    public async Task A_key_over_its_rate_limit_gets_resource_exhausted()
    {
        var gateway = new RateLimitedGrpcGateway();
        await gateway.InitializeAsync();
        try
        {
            using var channel = gateway.Channel();
            var client = GrpcGatewayFixture.Client(channel, await gateway.CreateKeyAsync("events:write"));
            var statuses = new List<RpcException>();
            for (var i = 0; i < 5; i++)
            {
                try
                {
                    await client.PublishAsync(new PublishRequest { Event = new Kefu.Contracts.Integration.InboundEvent { Id = "rl-" + i, Type = "t" } });
                }
                catch (RpcException e)
                {
                    statuses.Add(e);
                }
            }

            var limited = Assert.Single(statuses, e => e.StatusCode == StatusCode.ResourceExhausted);
            Assert.Equal("rate_limited", limited.Trailers.GetValue("kefu-code"));
        }
        finally
        {
            await gateway.DisposeAsync();
        }
    }

    private sealed class RateLimitedGrpcGateway : GatewayFixture
    {
        private readonly int _port = FreePort();

        protected override bool StaffDefaultInbox => false;

        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Kefu:Grpc:Url"] = $"http://127.0.0.1:{_port}",
            ["Kefu:ApiKeys:RequestsPerSecond"] = "0.01",
            ["Kefu:ApiKeys:Burst"] = "4",
        };

        public GrpcChannel Channel() => GrpcChannel.ForAddress($"http://127.0.0.1:{_port}");

        public static Integration.IntegrationClient Client(GrpcChannel channel, string key) => GrpcGatewayFixture.Client(channel, key);

        public async Task<string> CreateKeyAsync(params string[] scopes)
        {
            using var admin = Http(await LoginAsync());
            var response = await admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "rate", scopes });
            return (await Desk.Ok(response)).GetProperty("key").GetString()!;
        }
    }
}
