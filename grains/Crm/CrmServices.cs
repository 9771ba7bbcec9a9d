using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Kefu.Grains.Crm;

public static class CrmServices
{
    /// <summary>CRM sync on a silo (docs/crm.md): options (checked at start), the connector's HTTP client, and the triggers' start.</summary>
    public static IServiceCollection AddKefuCrm(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<CrmOptions>()
            .Bind(configuration.GetSection(CrmOptions.Section))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<CrmOptions>, CrmOptionsValidator>();
        services.TryAddSingleton<CrmConnector>();
        services.TryAddSingleton<CrmSyncAttempt>();
        services.TryAddSingleton<CrmMetrics>();
        services.AddHttpClient(CrmConnector.ClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseCookies = false,
                UseProxy = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            })
            .ConfigureHttpClient(c => c.Timeout = Timeout.InfiniteTimeSpan); // each request has the CRM's step timeout
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, CrmTriggerStarter>();
        return services;
    }
}

/// <summary>Names every configuration problem (the generic validation message only says where to look).</summary>
internal sealed class CrmOptionsValidator : IValidateOptions<CrmOptions>
{
    public ValidateOptionsResult Validate(string? name, CrmOptions options)
    {
        var problems = options.Problems().ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}

/// <summary>At silo start, each tenant with a CRM gets its trigger going (its reminder then keeps it going anywhere in the cluster).</summary>
internal sealed class CrmTriggerStarter(IGrainFactory grains, IOptions<CrmOptions> options) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(CrmTriggerStarter), ServiceLifecycleStage.Active, StartAsync, _ => Task.CompletedTask);

    private Task StartAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(options.Value.Connectors.Values.Select(c => c.Tenant).Distinct(StringComparer.Ordinal)
            .Select(tenant => grains.GetGrain<ICrmTriggerGrain>(tenant).Start()));
}
