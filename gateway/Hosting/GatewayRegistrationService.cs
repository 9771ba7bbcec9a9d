using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Gateway.WebSockets;
using Kefu.Grains.Hosting;
using Kefu.Grains.Push;
using Microsoft.Extensions.Options;

namespace Kefu.Gateway.Hosting;

/// <summary>
/// Registers this gateway's single observer with its registry grain and, every heartbeat interval, refreshes it and
/// tells each connected participant which of its connections are still here. Missed heartbeats expire both.
/// </summary>
public sealed partial class GatewayRegistrationService(
    IGrainFactory grains,
    GatewayObserver observer,
    GatewayIdentity identity,
    GatewayReadiness readiness,
    ConnectionRegistry connections,
    IOptions<PresenceOptions> presence,
    ILogger<GatewayRegistrationService> logger,
    LocalGateways? localGateways = null) : BackgroundService
{
    private IGatewayObserver? _reference;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _reference = grains.CreateObjectReference<IGatewayObserver>(observer);
        // Embedded: silos in this process deliver to the observer object directly.
        localGateways?.Add(identity.Id, observer);
        using var timer = new PeriodicTimer(presence.Value.HeartbeatInterval);
        do
        {
            try
            {
                await grains.GetGrain<IGatewayGrain>(identity.Id).Register(_reference);
                readiness.Registered(true);
                await HeartbeatParticipantsAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogHeartbeatFailed(logger, ex, identity.Id);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        readiness.Registered(false);
        localGateways?.Remove(identity.Id);
        await base.StopAsync(cancellationToken);
        try
        {
            await grains.GetGrain<IGatewayGrain>(identity.Id).Unregister().WaitAsync(TimeSpan.FromSeconds(2), cancellationToken);
        }
        catch (Exception ex)
        {
            LogHeartbeatFailed(logger, ex, identity.Id);
        }

        if (_reference is not null)
        {
            grains.DeleteObjectReference<IGatewayObserver>(_reference);
        }
    }

    private Task HeartbeatParticipantsAsync(CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(
            connections.ByParticipant(),
            new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken },
            async (group, _) =>
            {
                var caller = group[0].Caller;
                var key = Tenancy.Key(caller.Tenant, caller.Id);
                IConnectedParticipant participant = caller.Role == ParticipantRole.Visitor
                    ? grains.GetGrain<IVisitorGrain>(key)
                    : grains.GetGrain<IAgentGrain>(key);
                await participant.Heartbeat(identity.Id, [.. group.Select(c => c.Id)]);
            });

    [LoggerMessage(Level = LogLevel.Warning, Message = "Gateway {GatewayId} could not reach the cluster; retrying")]
    private static partial void LogHeartbeatFailed(ILogger logger, Exception exception, string gatewayId);
}
