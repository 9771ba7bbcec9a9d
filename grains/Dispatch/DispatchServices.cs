using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Kefu.Grains.Dispatch;

public static class DispatchServices
{
    /// <summary>Options and the conversation notifier of the dispatcher grain (a notifier added before wins).</summary>
    public static IServiceCollection AddKefuDispatch(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<DispatchOptions>(configuration.GetSection(DispatchOptions.Section));
        services.TryAddSingleton<IDispatchNotifier, GrainDispatchNotifier>();
        return services;
    }
}
