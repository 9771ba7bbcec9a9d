using Kefu.Contracts.Grains;
using Kefu.Grains.Events;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Kefu.Grains.ConversationEvents;

public static class ConversationEventsServices
{
    /// <summary>
    /// The relay to Kafka <c>conversation_events</c> on a silo, only when <c>Kefu:Kafka:BootstrapServers</c> is set: options
    /// (validated at start), the silo's producer, the wake-ups (a conversation sink and a wrapper around the event log
    /// registered so far) and the starter of the configured tenants' relays. Call it after the event log is registered.
    /// </summary>
    public static IServiceCollection AddKefuConversationEvents(this IServiceCollection services, IConfiguration configuration)
    {
        if (!ConversationEventsOptions.IsConfigured(configuration))
        {
            return services;
        }

        services.AddOptions<ConversationEventsOptions>()
            .Configure(o => o.Bind(configuration))
            .Validate(o => o.Problem() is null, "Kefu:Kafka:ConversationEvents: invalid settings (Topic not empty; Format json|protobuf; StartFrom beginning|latest; BatchSize ≥ 1; positive delays).")
            .ValidateOnStart();
        services.TryAddSingleton<ConversationEventsProducer>();
        services.TryAddSingleton<IConversationEventsProducer>(sp => sp.GetRequiredService<ConversationEventsProducer>());
        services.TryAddSingleton<ConversationEventsWakeups>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConversationEventSink, TenantWakeupSink<ConversationEventsWakeups>>());
        services.TryAddSingleton<ConversationEventsStarter>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<ConversationEventsStarter>());

        var inner = services.LastOrDefault(d => d.ServiceType == typeof(IEventLog));
        if (inner is not null)
        {
            services.Remove(inner);
            services.AddSingleton<IEventLog>(sp => new WakingEventLog(Create(sp, inner), sp.GetRequiredService<ConversationEventsWakeups>()));
        }

        return services;
    }

    private static IEventLog Create(IServiceProvider sp, ServiceDescriptor descriptor) =>
        descriptor.ImplementationInstance as IEventLog
        ?? (IEventLog?)descriptor.ImplementationFactory?.Invoke(sp)
        ?? (IEventLog)ActivatorUtilities.CreateInstance(sp, descriptor.ImplementationType!);
}

/// <summary>
/// Starts the configured tenants' relays when the silo is up (every silo does; starting a running relay changes
/// nothing). In the background and retried, so a slow store never holds up the silo's start; from then on each relay's
/// reminder keeps it running.
/// </summary>
public sealed partial class ConversationEventsStarter(
    IGrainFactory grains,
    IOptions<ConversationEventsOptions> options,
    ILogger<ConversationEventsStarter> logger) : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task _starting = Task.CompletedTask;

    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe(nameof(ConversationEventsStarter), ServiceLifecycleStage.Active, OnStartAsync, OnStopAsync);
    }

    public void Dispose() => _stopping.Dispose();

    private Task OnStartAsync(CancellationToken cancellationToken)
    {
        _starting = Task.Run(() => StartAllAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task OnStopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _starting.WaitAsync(cancellationToken).ContinueWith(static _ => { }, TaskScheduler.Default);
    }

    private async Task StartAllAsync(CancellationToken stopping)
    {
        foreach (var tenant in options.Value.TenantsOrDefault)
        {
            for (var attempt = 1; !stopping.IsCancellationRequested; attempt++)
            {
                try
                {
                    await grains.GetGrain<IConversationEventsRelayGrain>(tenant).Start();
                    break;
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    LogStartFailed(logger, ex, tenant, attempt);
                    try
                    {
                        await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, attempt * 2)), stopping);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka conversation_events: the relay of tenant {Tenant} did not start (attempt {Attempt}); trying again")]
    private static partial void LogStartFailed(ILogger logger, Exception exception, string tenant, int attempt);
}
