using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Kefu.Plugins;

public static class PluginServiceCollectionExtensions
{
    /// <summary>The sandbox engine (one per process) and the HTTP client behind <c>kefu.http</c>.</summary>
    public static IServiceCollection AddKefuPlugins(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<PluginOptions>(configuration.GetSection(PluginOptions.Section));
        // No redirects: a redirect could lead a plugin to a host its manifest does not allow.
        services.AddHttpClient(HostFunctions.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });
        services.AddSingleton<PluginEngine>();
        return services;
    }
}
