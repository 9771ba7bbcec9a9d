using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Participants;

/// <summary>Connection and presence handling shared by visitor and agent grains.</summary>
public abstract partial class ParticipantGrain(TimeProvider time, IOptions<PresenceOptions> presenceOptions, ILogger logger) : Grain
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

    public async Task Heartbeat(string gatewayId, string[] connectionIds)
    {
        await Apply(Connections.Heartbeat(gatewayId, connectionIds));
        try
        {
            await OnHeartbeatAsync(Connections.Presence);
        }
        catch (Exception ex)
        {
            // The gateway's heartbeat did its job (presence is refreshed); a listener catches up on the next one.
            LogHeartbeatListenerFailed(logger, ex, ParticipantKey);
        }
    }

    public Task<ParticipantPresence> GetPresence() => Task.FromResult(Connections.Presence);

    /// <summary>
    /// Tell whoever routes events to this participant (conversations, directories) where it now is. Awaited, so when
    /// a connection's Connect returns, events for it are already routed to its gateway.
    /// </summary>
    protected abstract Task OnPresenceChangedAsync(ParticipantPresence presence);

    /// <summary>Re-announce presence to volatile listeners that may have lost it (e.g. after a silo failure).</summary>
    protected virtual Task OnHeartbeatAsync(ParticipantPresence presence) => Task.CompletedTask;

    private async Task Apply(bool changed)
    {
        if (changed)
        {
            await AnnounceAsync();
        }

        if (Connections.HasConnections && _expiryTimer is null)
        {
            var period = presenceOptions.Value.HeartbeatInterval;
            _expiryTimer = this.RegisterGrainTimer(
                static (self, _) => self.ExpireAsync(),
                this,
                new GrainTimerCreationOptions(period, period) { KeepAlive = false });
        }
    }

    private async Task ExpireAsync()
    {
        if (Connections.Expire(presenceOptions.Value.Expiry))
        {
            await AnnounceAsync();
        }

        if (!Connections.HasConnections)
        {
            _expiryTimer?.Dispose();
            _expiryTimer = null;
        }
    }

    private async Task AnnounceAsync()
    {
        try
        {
            await OnPresenceChangedAsync(Connections.Presence);
        }
        catch (Exception ex)
        {
            // A listener that cannot be reached learns presence when it next activates (it asks) or on the next change.
            LogAnnounceFailed(logger, ex, ParticipantKey);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Heartbeat of {ParticipantKey} could not be passed on to every listener")]
    private static partial void LogHeartbeatListenerFailed(ILogger logger, Exception exception, string participantKey);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Presence of {ParticipantKey} could not be announced to every listener")]
    private static partial void LogAnnounceFailed(ILogger logger, Exception exception, string participantKey);
}
