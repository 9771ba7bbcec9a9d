using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Hosting;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Participants;

/// <summary>Connection and presence handling shared by visitor and agent grains.</summary>
public abstract class ParticipantGrain(TimeProvider time, IOptions<PresenceOptions> presenceOptions) : Grain
{
    private ConnectionTracker? _tracker;
    private IGrainTimer? _expiryTimer;
    private (string Tenant, string Id)? _key;

    protected abstract ParticipantRole Role { get; }

    /// <summary>The grain key "{tenant}/{id}", split.</summary>
    protected (string Tenant, string Id) Key => _key ??= Tenancy.Split(this.GetPrimaryKeyString());

    protected string ParticipantKey => ParticipantKeys.Key(Key.Tenant, Role, Key.Id);

    protected ConnectionTracker Connections => _tracker ??= new ConnectionTracker(ParticipantKey, time);

    public Task Connect(string gatewayId, string connectionId) => Apply(Connections.Connect(gatewayId, connectionId));

    public Task Disconnect(string gatewayId, string connectionId) => Apply(Connections.Disconnect(gatewayId, connectionId));

    public Task Heartbeat(string gatewayId, string[] connectionIds)
    {
        var result = Apply(Connections.Heartbeat(gatewayId, connectionIds));
        OnHeartbeat(Connections.Presence);
        return result;
    }

    public Task<ParticipantPresence> GetPresence() => Task.FromResult(Connections.Presence);

    /// <summary>Tell whoever routes events to this participant (conversations, directories) where it now is.</summary>
    protected abstract void OnPresenceChanged(ParticipantPresence presence);

    /// <summary>Re-announce presence to volatile listeners that may have lost it (e.g. after a silo failure).</summary>
    protected virtual void OnHeartbeat(ParticipantPresence presence)
    {
    }

    private Task Apply(bool changed)
    {
        if (changed)
        {
            OnPresenceChanged(Connections.Presence);
        }

        if (Connections.HasConnections && _expiryTimer is null)
        {
            var period = presenceOptions.Value.HeartbeatInterval;
            _expiryTimer = this.RegisterGrainTimer(
                static (self, _) => self.ExpireAsync(),
                this,
                new GrainTimerCreationOptions(period, period) { KeepAlive = false });
        }

        return Task.CompletedTask;
    }

    private Task ExpireAsync()
    {
        if (Connections.Expire(presenceOptions.Value.Expiry))
        {
            OnPresenceChanged(Connections.Presence);
        }

        if (!Connections.HasConnections)
        {
            _expiryTimer?.Dispose();
            _expiryTimer = null;
        }

        return Task.CompletedTask;
    }
}
