using Kefu.Grains.Events;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Kefu.Grains.Plugins;

/// <summary>How the message hooks of plugins behave on a silo (<c>Kefu:PluginHooks</c>, docs/plugins.md "Where plugins run").</summary>
public sealed class PluginHookOptions
{
    public const string Section = "Kefu:PluginHooks";

    /// <summary>
    /// How long a before_message worker trusts the tenant's hook set before asking the registry again: the hot chat path
    /// makes no registry call in between, and a change (upload, disable) reaches it within this time.
    /// </summary>
    public TimeSpan HookSetRefresh { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often an after_message reader looks for events committed on other silos (this silo's wake it at once).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>Wakes a tenant's after_message reader when a visitor's message is committed on this silo (only readers that run are woken).</summary>
public sealed class PluginHookWakeups : TenantWakeups;

public static class PluginHookServices
{
    public static IServiceCollection AddKefuPluginHooks(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PluginHookOptions>()
            .Bind(configuration.GetSection(PluginHookOptions.Section))
            .Validate(o => o.HookSetRefresh >= TimeSpan.Zero && o.PollInterval > TimeSpan.Zero, "Kefu:PluginHooks: HookSetRefresh must not be negative; PollInterval positive.")
            .ValidateOnStart();
        services.TryAddSingleton<PluginHookWakeups>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConversationEventSink, TenantWakeupSink<PluginHookWakeups>>());
        return services;
    }
}
