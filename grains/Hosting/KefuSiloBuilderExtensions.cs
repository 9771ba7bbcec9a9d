using Kefu.Grains.Push;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Hosting;

namespace Kefu.Grains.Hosting;

/// <summary>The one place a Kefu silo is configured: the standalone silo host and the embedded gateway both call it.</summary>
public static class KefuSiloBuilderExtensions
{
    /// <summary>A complete single-machine silo: localhost clustering plus <see cref="AddKefuGrains"/>.</summary>
    public static ISiloBuilder AddKefu(this ISiloBuilder silo, IConfiguration configuration)
    {
        var options = configuration.GetSection(KefuSiloOptions.Section).Get<KefuSiloOptions>() ?? new KefuSiloOptions();
        silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort, serviceId: options.ServiceId, clusterId: options.ClusterId);
        return silo.AddKefuGrains(configuration);
    }

    /// <summary>Storage, options and silo services the grains need, without clustering (test clusters bring their own).</summary>
    public static ISiloBuilder AddKefuGrains(this ISiloBuilder silo, IConfiguration configuration)
    {
        silo.AddMemoryGrainStorage(KefuStorage.Name);
        var services = silo.Services;
        services.Configure<ConversationOptions>(configuration.GetSection(ConversationOptions.Section));
        services.Configure<PresenceOptions>(configuration.GetSection(PresenceOptions.Section));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IMessageStore, InMemoryMessageStore>();
        services.TryAddSingleton<GatewayPusher>();
        return silo;
    }
}
