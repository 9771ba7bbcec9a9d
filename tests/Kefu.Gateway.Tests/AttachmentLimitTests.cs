using System.Net;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;
using Kefu.Grains.Attachments;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Kefu.Gateway.Tests;

/// <summary>
/// A gateway with tight attachment limits, its own storage directory (the retention job here deletes what it finds)
/// and a disk whose free space a test sets.
/// </summary>
public sealed class UploadLimitsGatewayFixture : GatewayFixture, IAsyncLifetime
{
    public const int PerAddress = 3;
    public const long PerConversation = 1000;
    public const long PerTenant = 4000;

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "kefu-test-attachments-" + Guid.NewGuid().ToString("N"));

    public FakeDisk Disk { get; } = new();

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Kefu:Attachments:Path"] = Directory,
        ["Kefu:Attachments:MaxBytesPerConversation"] = PerConversation.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Kefu:Attachments:MaxBytesPerTenant"] = PerTenant.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Kefu:RateLimits:UploadsPerMinutePerAddress"] = PerAddress.ToString(System.Globalization.CultureInfo.InvariantCulture),
        // The tests' client addresses arrive as X-Forwarded-For from loopback.
        ["Kefu:ForwardedHeaders:KnownProxies:0"] = "127.0.0.1",
    };

    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton<IFreeDiskSpace>(Disk);

    Task IAsyncLifetime.InitializeAsync() => InitializeAsync();

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        if (System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }

    public sealed class FakeDisk : IFreeDiskSpace
    {
        public long Available { get; set; } = 1L << 40;

        public long? AvailableBytes(string directory) => Available;
    }

    private static int _address;

    /// <summary>A client address no other test uses (TEST-NET-3), so per-address budgets do not leak between tests.</summary>
    public static string NewAddress()
    {
        var n = Interlocked.Increment(ref _address);
        return $"203.0.{113 + (n / 250)}.{1 + (n % 250)}";
    }

    /// <summary>A new visitor with a conversation, whose HTTP client comes from <paramref name="address"/>.</summary>
    public async Task<(string Token, string ConversationId, HttpClient Http)> VisitorAsync(string address, string name = "Ann")
    {
        var (_, token) = await CreateVisitorAsync(name);
        await using var socket = await ConnectAsync(token);
        var conversationId = (await socket.SendMessageAsync("hello")).Str("conversationId")!;
        var http = Http(token);
        http.DefaultRequestHeaders.Add("X-Forwarded-For", address);
        return (token, conversationId, http);
    }
}

[CollectionDefinition(Name)]
public sealed class UploadLimitsGatewayCollection : ICollectionFixture<UploadLimitsGatewayFixture>
{
    public const string Name = "upload-limits-gateway";
}

/// <summary>Issue #12 item 1: uploads per address, quotas per conversation and tenant, a free-disk floor, retention.</summary>
[Collection(UploadLimitsGatewayCollection.Name)]
public sealed class AttachmentLimitTests(UploadLimitsGatewayFixture gateway)
{
    private static byte[] Text(int bytes) => [.. Enumerable.Repeat((byte)'a', bytes)];

    [Fact]
    public async Task New_visitors_from_one_address_share_its_upload_budget()
    {
        // Visitors are free to create: each one's own budget is not enough.
        var address = UploadLimitsGatewayFixture.NewAddress();
        for (var i = 0; i < UploadLimitsGatewayFixture.PerAddress; i++)
        {
            var (_, conversationId, http) = await gateway.VisitorAsync(address);
            using var _ = http;
            Assert.Equal(HttpStatusCode.Created, (await AttachmentTests.UploadAsync(http, conversationId, Text(10), "text/plain", "a.txt")).StatusCode);
        }

        var (_, lastConversation, last) = await gateway.VisitorAsync(address);
        using (last)
        {
            var refused = await AttachmentTests.UploadAsync(last, lastConversation, Text(10), "text/plain", "a.txt");
            Assert.True(refused.Headers.RetryAfter is not null);
            Assert.Equal("rate_limited", await Desk.ProblemCode(refused, HttpStatusCode.TooManyRequests));
        }

        // Another address has its own budget.
        var (_, otherConversation, other) = await gateway.VisitorAsync(UploadLimitsGatewayFixture.NewAddress());
        using (other)
        {
            Assert.Equal(HttpStatusCode.Created, (await AttachmentTests.UploadAsync(other, otherConversation, Text(10), "text/plain", "a.txt")).StatusCode);
        }
    }

    [Fact]
    public async Task A_conversation_over_its_quota_is_refused_and_other_conversations_are_not()
    {
        var (_, conversationId, http) = await gateway.VisitorAsync(UploadLimitsGatewayFixture.NewAddress());
        using var _ = http;
        Assert.Equal(HttpStatusCode.Created, (await AttachmentTests.UploadAsync(http, conversationId, Text(600), "text/plain", "a.txt")).StatusCode);
        Assert.Equal("quota_exceeded", await Desk.ProblemCode(
            await AttachmentTests.UploadAsync(http, conversationId, Text(600), "text/plain", "b.txt"), HttpStatusCode.RequestEntityTooLarge));

        // The refused file took nothing: what is left of the quota still fits.
        Assert.Equal(HttpStatusCode.Created, (await AttachmentTests.UploadAsync(http, conversationId, Text(400), "text/plain", "c.txt")).StatusCode);
        Assert.Equal(UploadLimitsGatewayFixture.PerConversation, await Usage(Tenancy.Key(Tenancy.DefaultTenant, conversationId)));

        var (_, otherConversation, other) = await gateway.VisitorAsync(UploadLimitsGatewayFixture.NewAddress());
        using (other)
        {
            Assert.Equal(HttpStatusCode.Created, (await AttachmentTests.UploadAsync(other, otherConversation, Text(600), "text/plain", "a.txt")).StatusCode);
        }
    }

    [Fact]
    public async Task The_tenant_quota_refuses_uploads_until_the_retention_job_deletes_expired_attachments()
    {
        // Fresh conversations, each far below its own quota, until the tenant's is used up.
        string? firstUrl = null;
        HttpResponseMessage? refused = null;
        var clients = new List<HttpClient>();
        try
        {
            for (var i = 0; i < 8 && refused is null; i++)
            {
                var (_, conversationId, http) = await gateway.VisitorAsync(UploadLimitsGatewayFixture.NewAddress());
                clients.Add(http);
                var response = await AttachmentTests.UploadAsync(http, conversationId, Text(900), "text/plain", "a.txt");
                if (response.StatusCode == HttpStatusCode.Created)
                {
                    firstUrl ??= (await Desk.Ok(response)).Str("url");
                }
                else
                {
                    refused = response;
                }
            }

            Assert.NotNull(refused);
            Assert.Equal("quota_exceeded", await Desk.ProblemCode(refused, HttpStatusCode.RequestEntityTooLarge));
            Assert.True(await Usage(TenantKey) <= UploadLimitsGatewayFixture.PerTenant);
            Assert.NotNull(firstUrl);

            // A sweep today deletes nothing young.
            var retention = gateway.Services.GetRequiredService<AttachmentRetention>();
            var retentionDays = gateway.Services.GetRequiredService<IOptions<AttachmentOptions>>().Value.RetentionDays;
            Assert.Equal(0, await retention.SweepAsync(DateTimeOffset.UtcNow.AddDays(1), CancellationToken.None));
            Assert.Equal(HttpStatusCode.OK, (await clients[0].GetAsync(firstUrl)).StatusCode);

            // Once they are older than the retention age, the job deletes them and gives their bytes back.
            Assert.True(await retention.SweepAsync(DateTimeOffset.UtcNow.AddDays(retentionDays + 1), CancellationToken.None) > 0);
            Assert.Equal("not_found", await Desk.ProblemCode(await clients[0].GetAsync(firstUrl), HttpStatusCode.NotFound));
            Assert.Empty(System.IO.Directory.EnumerateFiles(gateway.Directory, "*.bin"));
            Assert.Equal(0, await Usage(TenantKey));

            var (_, conversation, again) = await gateway.VisitorAsync(UploadLimitsGatewayFixture.NewAddress());
            clients.Add(again);
            Assert.Equal(HttpStatusCode.Created, (await AttachmentTests.UploadAsync(again, conversation, Text(900), "text/plain", "a.txt")).StatusCode);
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task Uploads_are_refused_with_507_below_the_free_disk_floor()
    {
        var (_, conversationId, http) = await gateway.VisitorAsync(UploadLimitsGatewayFixture.NewAddress());
        using var _ = http;
        var floor = gateway.Services.GetRequiredService<IOptions<AttachmentOptions>>().Value.MinFreeBytes;
        try
        {
            gateway.Disk.Available = floor + 100;
            Assert.Equal("insufficient_storage", await Desk.ProblemCode(
                await AttachmentTests.UploadAsync(http, conversationId, Text(200), "text/plain", "a.txt"), HttpStatusCode.InsufficientStorage));
            Assert.Equal(0, await Usage(Tenancy.Key(Tenancy.DefaultTenant, conversationId)));
        }
        finally
        {
            gateway.Disk.Available = 1L << 40;
        }

        Assert.Equal(HttpStatusCode.Created, (await AttachmentTests.UploadAsync(http, conversationId, Text(200), "text/plain", "a.txt")).StatusCode);
    }

    private static string TenantKey => Tenancy.Key(Tenancy.DefaultTenant, AttachmentUsage.TenantScope);

    private Task<long> Usage(string key) => gateway.Services.GetRequiredService<IGrainFactory>().GetGrain<IAttachmentUsageGrain>(key).GetUsedBytes();
}

/// <summary>The real free-space source reads the disk of any directory, not only of a mount point.</summary>
public sealed class FreeDiskSpaceTests
{
    [Fact]
    public void The_drive_source_measures_the_disk_of_a_directory()
    {
        var directory = Directory.CreateTempSubdirectory("kefu-free-space-");
        try
        {
            Assert.True(new DriveFreeDiskSpace().AvailableBytes(directory.FullName) > 0);
        }
        finally
        {
            directory.Delete();
        }
    }
}
