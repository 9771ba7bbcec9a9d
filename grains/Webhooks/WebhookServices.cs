using Kefu.Grains.Events;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Webhooks;

public static class WebhookServices
{
    /// <summary>Outbound webhooks on a silo: options (validated at start), the sender, the wake-ups and their sink.</summary>
    public static IServiceCollection AddKefuWebhooks(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<WebhookOptions>()
            .Bind(configuration.GetSection(WebhookOptions.Section))
            .Validate(o => TryParse(o.RetrySchedule), "Kefu:Webhooks:RetrySchedule must be delays such as 5s,5m,30m,2h.")
            .Validate(o => o.MaxConcurrency >= 1 && o.BatchSize >= 1 && o.Timeout > TimeSpan.Zero && o.PollInterval > TimeSpan.Zero,
                "Kefu:Webhooks: MaxConcurrency and BatchSize must be at least 1, Timeout and PollInterval positive.")
            .ValidateOnStart();
        services.TryAddSingleton<WebhookSender>();
        services.TryAddSingleton<WebhookWakeups>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConversationEventSink, TenantWakeupSink<WebhookWakeups>>());
        return services;
    }

    private static bool TryParse(string schedule)
    {
        try
        {
            WebhookOptions.ParseSchedule(schedule);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
