using Kefu.Grains.Events;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Runtime;

namespace Kefu.Grains.Routing.Runtime;

public static class RoutingServices
{
    /// <summary>
    /// The routing runtime on a silo: options, the compiled-ruleset cache, the connector's HTTP client, the wake-ups (a
    /// conversation sink and a wrapper around the event log already registered) and the file loader.
    /// </summary>
    public static IServiceCollection AddKefuRouting(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RoutingOptions>()
            .Bind(configuration.GetSection(RoutingOptions.Section))
            .Validate(o => o.PollInterval > TimeSpan.Zero && o.BatchSize >= 1 && o.MaxInFlight >= 1 && o.ExecutionLogSize >= 1,
                "Kefu:Routing: PollInterval must be positive; BatchSize, MaxInFlight and ExecutionLogSize at least 1.")
            .ValidateOnStart();
        services.TryAddSingleton<IRuleSetSource, CompiledRuleSets>();
        services.TryAddSingleton<IRouteSelector, LanguageRouteSelector>();
        services.TryAddSingleton<RoutingConnector>();
        services.TryAddSingleton<RouteRunner>();
        services.TryAddSingleton<RoutingWakeups>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConversationEventSink, TenantWakeupSink<RoutingWakeups>>());
        services.AddHttpClient(RoutingConnector.ClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseCookies = false,
                UseProxy = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            })
            .ConfigureHttpClient(c => c.Timeout = Timeout.InfiniteTimeSpan); // each attempt has its own limit
        services.TryAddSingleton<RoutingFileLoader>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<RoutingFileLoader>());
        WrapEventLog(services);
        return services;
    }

    /// <summary>The event log as registered so far, with a wake-up after each append.</summary>
    private static void WrapEventLog(IServiceCollection services)
    {
        var inner = services.LastOrDefault(d => d.ServiceType == typeof(IEventLog));
        if (inner is null)
        {
            return;
        }

        services.Remove(inner);
        services.AddSingleton<IEventLog>(sp => new WakingEventLog(Create(sp, inner), sp.GetRequiredService<RoutingWakeups>()));
    }

    private static IEventLog Create(IServiceProvider sp, ServiceDescriptor descriptor) =>
        descriptor.ImplementationInstance as IEventLog
        ?? (IEventLog?)descriptor.ImplementationFactory?.Invoke(sp)
        ?? (IEventLog)ActivatorUtilities.CreateInstance(sp, descriptor.ImplementationType!);
}
