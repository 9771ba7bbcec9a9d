using Kefu.Grains.Participants;
using Microsoft.Extensions.Time.Testing;

namespace Kefu.Grains.Tests;

public sealed class ConnectionTrackerTests
{
    private const string Key = "acme/visitor/v1";

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public void StartsOfflineAtVersionZero()
    {
        var tracker = new ConnectionTracker(Key, _time);

        Assert.Equal(Key, tracker.Presence.ParticipantKey);
        Assert.Equal(0, tracker.Presence.Version);
        Assert.Empty(tracker.Presence.Gateways);
        Assert.False(tracker.Presence.IsOnline);
        Assert.False(tracker.HasConnections);
    }

    [Fact]
    public void PresenceChangesOnlyWhenTheGatewaySetChanges()
    {
        var tracker = new ConnectionTracker(Key, _time);

        Assert.True(tracker.Connect("gw-1", "c1"));
        var online = tracker.Presence;
        Assert.Equal(["gw-1"], online.Gateways);
        Assert.True(online.IsOnline);

        Assert.False(tracker.Connect("gw-1", "c2"));
        Assert.False(tracker.Connect("gw-1", "c2"));
        Assert.Same(online, tracker.Presence);
        Assert.Equal(2, tracker.ConnectionCount);

        Assert.True(tracker.Connect("gw-0", "c3"));
        Assert.Equal(["gw-0", "gw-1"], tracker.Presence.Gateways);

        Assert.False(tracker.Disconnect("gw-1", "c1"));
        Assert.False(tracker.Disconnect("gw-1", "unknown"));
        Assert.False(tracker.Disconnect("gw-unknown", "c1"));
        Assert.Equal(["gw-0", "gw-1"], tracker.Presence.Gateways);

        Assert.True(tracker.Disconnect("gw-1", "c2"));
        Assert.Equal(["gw-0"], tracker.Presence.Gateways);

        Assert.True(tracker.Disconnect("gw-0", "c3"));
        Assert.Empty(tracker.Presence.Gateways);
        Assert.False(tracker.HasConnections);
        Assert.Equal(0, tracker.ConnectionCount);
    }

    [Fact]
    public void VersionsStrictlyIncreaseEvenWhenTimeStandsStill()
    {
        var tracker = new ConnectionTracker(Key, _time);
        var versions = new List<long> { tracker.Presence.Version };

        for (var i = 0; i < 5; i++)
        {
            Assert.True(tracker.Connect("gw-1", "c1"));
            versions.Add(tracker.Presence.Version);
            Assert.True(tracker.Disconnect("gw-1", "c1"));
            versions.Add(tracker.Presence.Version);
        }

        Assert.All(versions.Zip(versions.Skip(1)), p => Assert.True(p.Second > p.First, $"{p.Second} is not above {p.First}"));

        // Time-based, so a new activation (a new tracker) starts above what an earlier one published.
        _time.Advance(TimeSpan.FromMilliseconds(1));
        var next = new ConnectionTracker(Key, _time);
        Assert.True(next.Connect("gw-1", "c1"));
        Assert.True(next.Presence.Version > versions[^1]);
    }

    [Fact]
    public void HeartbeatReplacesTheGatewaysConnections()
    {
        var tracker = new ConnectionTracker(Key, _time);
        tracker.Connect("gw-1", "c1");
        tracker.Connect("gw-1", "c2");
        var version = tracker.Presence.Version;

        Assert.False(tracker.Heartbeat("gw-1", ["c3"]));
        Assert.Equal(version, tracker.Presence.Version);
        Assert.Equal(1, tracker.ConnectionCount);

        // c1 and c2 are gone: disconnecting them changes nothing; c3 was the last one.
        Assert.False(tracker.Disconnect("gw-1", "c1"));
        Assert.False(tracker.Disconnect("gw-1", "c2"));
        Assert.True(tracker.Presence.IsOnline);
        Assert.True(tracker.Disconnect("gw-1", "c3"));
        Assert.False(tracker.Presence.IsOnline);

        // A heartbeat can bring a gateway in, and an empty one takes it out.
        Assert.True(tracker.Heartbeat("gw-2", ["c4", "c5"]));
        Assert.Equal(["gw-2"], tracker.Presence.Gateways);
        Assert.Equal(2, tracker.ConnectionCount);
        Assert.True(tracker.Heartbeat("gw-2", []));
        Assert.Empty(tracker.Presence.Gateways);
        Assert.False(tracker.Heartbeat("gw-3", []));
    }

    [Fact]
    public void ExpireDropsGatewaysNotHeardFromWithinTheExpiry()
    {
        var expiry = TimeSpan.FromSeconds(30);
        var tracker = new ConnectionTracker(Key, _time);
        tracker.Connect("gw-old", "c1");
        _time.Advance(TimeSpan.FromSeconds(20));
        tracker.Connect("gw-new", "c2");

        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.False(tracker.Expire(expiry)); // gw-old is exactly 30 s old: not yet expired
        Assert.Equal(["gw-new", "gw-old"], tracker.Presence.Gateways);

        _time.Advance(TimeSpan.FromSeconds(1));
        var before = tracker.Presence.Version;
        Assert.True(tracker.Expire(expiry));
        Assert.Equal(["gw-new"], tracker.Presence.Gateways);
        Assert.True(tracker.Presence.Version > before);

        // A heartbeat refreshes a gateway, so it survives past its first connection's age.
        _time.Advance(TimeSpan.FromSeconds(15));
        Assert.False(tracker.Heartbeat("gw-new", ["c2"]));
        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(tracker.Expire(expiry));
        Assert.Equal(["gw-new"], tracker.Presence.Gateways);

        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.True(tracker.Expire(expiry));
        Assert.False(tracker.Presence.IsOnline);
        Assert.False(tracker.HasConnections);
        Assert.False(tracker.Expire(expiry));
    }
}
