using Kefu.Grains.Attachments;
using Kefu.Grains.DataProtection;
using Kefu.Grains.Events;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Kefu.Grains.Retention;

public static class RetentionServices
{
    /// <summary>
    /// The retention job and its holders for messages, events and attachments (a store added later registers its own
    /// <see cref="IRetentionHolder"/>). Silo side; call after the message store, the event log and the attachment store.
    /// </summary>
    public static IServiceCollection AddKefuRetention(this IServiceCollection services, IConfiguration configuration)
    {
        if (services.Any(d => d.ServiceType == typeof(RetentionMarker)))
        {
            return services;
        }

        services.AddSingleton<RetentionMarker>();
        services.Configure<RetentionOptions>(configuration.GetSection(RetentionOptions.Section));
        services.AddSingleton<IRetentionHolder>(sp => new MessageRetentionHolder(sp.GetRequiredService<IMessageStore>()));

        // The store under the IEventLog decorators: MySQL in cluster mode, else the process's in-memory log.
        services.AddSingleton<IRetentionHolder>(sp => new EventRetentionHolder(
            (ITenantEventPruning?)sp.GetService<MySqlEventLog>() ?? sp.GetRequiredService<InMemoryEventLog>()));
        services.AddSingleton<IRetentionHolder>(sp => sp.GetRequiredService<AttachmentRetention>());
        services.TryAddSingleton<RetentionJob>();
        return services;
    }

    private sealed class RetentionMarker;
}
