using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;

namespace Kefu.Grains.Tests.Infrastructure;

/// <summary>A registered gateway whose observer records what each participant was sent.</summary>
public sealed class TestGateway : IAsyncDisposable
{
    private readonly IClusterClient _client;
    private readonly IGatewayObserver _reference;

    private TestGateway(IClusterClient client, string id, FakeGatewayObserver observer, IGatewayObserver reference)
    {
        _client = client;
        Id = id;
        Observer = observer;
        _reference = reference;
    }

    public string Id { get; }

    public FakeGatewayObserver Observer { get; }

    public static async Task<TestGateway> StartAsync(IClusterClient client)
    {
        var id = "gw-test-" + Guid.NewGuid().ToString("N");
        var observer = new FakeGatewayObserver();
        var reference = client.CreateObjectReference<IGatewayObserver>(observer);
        await client.GetGrain<IGatewayGrain>(id).Register(reference);
        return new TestGateway(client, id, observer, reference);
    }

    /// <summary>Every event pushed to the participant's connections so far.</summary>
    public ChatEvent[] ReceivedBy(string participantKey) =>
        [.. Observer.Received.Where(e => e.Recipients.Contains(participantKey)).Select(e => e.Event)];

    public Task<PushEnvelope> WaitForAsync(string participantKey, Func<ChatEvent, bool> match, string what) =>
        Observer.WaitForAsync(e => e.Recipients.Contains(participantKey) && match(e.Event), what);

    public async ValueTask DisposeAsync()
    {
        await _client.GetGrain<IGatewayGrain>(Id).Unregister();
        _client.DeleteObjectReference<IGatewayObserver>(_reference);
        GC.KeepAlive(Observer);
    }
}
