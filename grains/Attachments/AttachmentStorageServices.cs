using Kefu.Grains.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Attachments;

public static class AttachmentStorageServices
{
    public const string Disk = "disk";
    public const string MySql = "mysql";
    public const string S3 = "s3";

    /// <summary>
    /// The attachment store, its options and the retention job's attachment part. Both the silo (the retention reminder)
    /// and the gateway (uploads) call this; in the embedded gateway both do, hence the Try-adds and the guard around
    /// the binding. The store is chosen by <c>Kefu:Attachments:Store</c> (<see cref="StoreKind"/>).
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
        var kind = StoreKind(configuration);
        var connectionString = KefuCluster.ConnectionString(configuration);
        if (kind != Disk && connectionString is null)
        {
            // Fail at start, not at the first upload.
            throw new InvalidOperationException($"{AttachmentOptions.Section}:Store = {kind} needs the MySQL connection string (ConnectionStrings:kefu).");
        }

        services.TryAddSingleton<IAttachmentStore>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<AttachmentOptions>>().Value;
            return kind switch
            {
                MySql => new MySqlAttachmentStore(connectionString!, ChunkBytes(options)),
                S3 => new S3AttachmentStore(connectionString!, options.S3),
                _ => new DiskAttachmentStore(options.EffectivePath(sp.GetService<IHostEnvironment>()?.ContentRootPath ?? AppContext.BaseDirectory)),
            };
        });
        services.TryAddSingleton<AttachmentRetention>();
        return services;
    }

    /// <summary><c>Kefu:Attachments:Store</c>, or its default: <c>mysql</c> in cluster mode, <c>disk</c> when embedded.</summary>
    public static string StoreKind(IConfiguration configuration)
    {
        var configured = configuration[$"{AttachmentOptions.Section}:{nameof(AttachmentOptions.Store)}"]?.Trim().ToLowerInvariant();
        return configured switch
        {
            null or "" => KefuCluster.ConnectionString(configuration) is null ? Disk : MySql,
            Disk or MySql or S3 => configured,
            _ => throw new InvalidOperationException($"{AttachmentOptions.Section}:Store must be disk, mysql or s3, not '{configured}'."),
        };
    }

    private static int ChunkBytes(AttachmentOptions options) =>
        options.MySqlChunkBytes is >= 64 * 1024 and <= 8 * 1024 * 1024
            ? options.MySqlChunkBytes
            : throw new InvalidOperationException($"{AttachmentOptions.Section}:MySqlChunkBytes must be 65536 to 8388608.");

    private sealed class AttachmentStorageMarker;
}
