using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Grains.Attachments;
using Kefu.Grains.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Kefu.Grains.Tests;

/// <summary>
/// The retention reminder: registered by <see cref="IAttachmentRetentionGrain.Start"/>, and its tick deletes expired
/// attachments from the silo's store and gives their bytes back to the usage counters.
/// </summary>
public sealed class AttachmentRetentionTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "kefu-retention-" + Guid.NewGuid().ToString("N"));
    private InProcessTestCluster? _cluster;

    private InProcessTestCluster Cluster => _cluster!;

    public async Task InitializeAsync() => _cluster = await KefuTestCluster.StartAsync(new Dictionary<string, string?>
    {
        ["Kefu:Attachments:Path"] = _directory,
        ["Kefu:Attachments:RetentionDays"] = "30",
    });

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        if (System.IO.Directory.Exists(_directory))
        {
            System.IO.Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task The_reminder_tick_deletes_expired_attachments_and_releases_their_bytes()
    {
        var client = Cluster.Client;
        var store = new DiskAttachmentStore(_directory);
        var conversation = Ulid.NewUlid().ToString();
        var old = await StoreAsync(store, conversation, 100, DateTimeOffset.UtcNow.AddDays(-31));
        var young = await StoreAsync(store, conversation, 40, DateTimeOffset.UtcNow.AddDays(-29));
        var conversationUsage = client.GetGrain<IAttachmentUsageGrain>(Tenancy.Key(Tenancy.DefaultTenant, conversation));
        var tenantUsage = client.GetGrain<IAttachmentUsageGrain>(Tenancy.Key(Tenancy.DefaultTenant, AttachmentUsage.TenantScope));
        Assert.True(await conversationUsage.TryReserve(140, 0));
        Assert.True(await tenantUsage.TryReserve(140, 0));

        var retention = client.GetGrain<IAttachmentRetentionGrain>(0);
        await retention.Start(TimeSpan.FromHours(1));
        var reminders = Cluster.GetSiloServiceProvider().GetRequiredService<IReminderTable>();
        var registered = await reminders.ReadRow(retention.GetGrainId(), "attachment-retention");
        Assert.NotNull(registered);
        Assert.Equal(TimeSpan.FromHours(1), registered.Period);

        // What Orleans does when the reminder is due.
        await retention.AsReference<IRemindable>().ReceiveReminder("attachment-retention", default);

        Assert.Null(await store.GetInfoAsync(old, CancellationToken.None));
        Assert.Null(await store.OpenReadAsync(old, CancellationToken.None));
        Assert.NotNull(await store.GetInfoAsync(young, CancellationToken.None));
        Assert.Equal(40, await conversationUsage.GetUsedBytes());
        Assert.Equal(40, await tenantUsage.GetUsedBytes());

        await retention.Stop();
        Assert.Null(await reminders.ReadRow(retention.GetGrainId(), "attachment-retention"));
    }

    [Fact]
    public async Task Usage_counters_refuse_what_would_exceed_their_limit()
    {
        var usage = Cluster.Client.GetGrain<IAttachmentUsageGrain>(Tenancy.Key(Tenancy.DefaultTenant, Ulid.NewUlid().ToString()));
        Assert.True(await usage.TryReserve(600, 1000));
        Assert.False(await usage.TryReserve(401, 1000));
        Assert.True(await usage.TryReserve(400, 1000));
        await usage.Release(300);
        Assert.Equal(700, await usage.GetUsedBytes());
        await usage.Release(5000);
        Assert.Equal(0, await usage.GetUsedBytes());
    }

    private static async Task<string> StoreAsync(DiskAttachmentStore store, string conversation, int bytes, DateTimeOffset createdAt)
    {
        var id = Ulid.NewUlid(createdAt).ToString(); // ids are made at upload
        using var content = new MemoryStream(new byte[bytes]);
        await store.SaveAsync(
            new AttachmentInfo(id, Tenancy.DefaultTenant, conversation, "a.txt", "text/plain", bytes, "visitor", "v1", createdAt), content, CancellationToken.None);
        return id;
    }
}
