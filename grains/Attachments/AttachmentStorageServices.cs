using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Attachments;

public static class AttachmentStorageServices
{
    /// <summary>
    /// The attachment store, its options and the retention job. Both the silo (the retention reminder) and the gateway
    /// (uploads) call this; in the embedded gateway both do, hence the Try-adds and the guard around the binding.
    /// </summary>
    public static IServiceCollection AddKefuAttachmentStorage(this IServiceCollection services, IConfiguration configuration)
    {
        if (services.Any(d => d.ServiceType == typeof(AttachmentStorageMarker)))
        {
            return services;
        }

        services.AddSingleton<AttachmentStorageMarker>();
        services.Configure<AttachmentOptions>(configuration.GetSection(AttachmentOptions.Section));
        services.TryAddSingleton<IFreeDiskSpace, DriveFreeDiskSpace>();
        services.TryAddSingleton<IAttachmentStore>(sp => new DiskAttachmentStore(
            sp.GetRequiredService<IOptions<AttachmentOptions>>().Value.EffectivePath(
                sp.GetService<IHostEnvironment>()?.ContentRootPath ?? AppContext.BaseDirectory)));
        services.TryAddSingleton<AttachmentRetention>();
        return services;
    }

    private sealed class AttachmentStorageMarker;
}
