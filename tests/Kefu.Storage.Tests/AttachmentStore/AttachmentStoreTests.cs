using System.Reflection;
using Kefu.Contracts.Grains;
using Kefu.Grains.Attachments;
using Kefu.Grains.DataProtection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Kefu.Storage.Tests.AttachmentStore;

/// <summary>
/// The cluster attachment stores (deploy/mysql/015): <see cref="MySqlAttachmentStore"/> (bytes in chunk rows) and
/// <see cref="S3AttachmentStore"/> (bytes in a bucket, here a fake S3 server on loopback) behind the same contract —
/// round trip of a file larger than one chunk, a conversation's listing, listing by age, delete, leftovers of an
/// interrupted upload — and the retention holder pruning one tenant's attachments through the store.
/// </summary>
public sealed class AttachmentStoreTests : IAsyncLifetime
{
    private const int Chunk = 64 * 1024;
    private readonly MariaDbDatabase _db = new();
    private readonly FakeS3Server _s3 = new();

    public Task InitializeAsync() => _db.InitializeAsync();

    public async Task DisposeAsync()
    {
        await _s3.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task MySql_store_round_trips_a_file_of_several_chunks_lists_and_deletes()
    {
        var store = new MySqlAttachmentStore(_db.ConnectionString, Chunk);
        Assert.Null(store.Directory);
        await RoundTripAsync(store);

        // Bytes really are in chunk rows no bigger than the chunk size.
        var (tenant, conversation) = ("acme", Ulid.NewUlid().ToString());
        var id = await SaveAsync(store, tenant, conversation, Bytes(2 * Chunk + 10), DateTimeOffset.UtcNow);
        await using var connection = new MySqlConnection(_db.ConnectionString);
        await connection.OpenAsync();
        await using var chunks = new MySqlCommand("SELECT COUNT(*), MAX(LENGTH(bytes)) FROM kefu_attachment_chunk WHERE attachment_id = @id", connection);
        chunks.Parameters.AddWithValue("@id", id);
        await using var reader = await chunks.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal((3L, (long)Chunk), (reader.GetInt64(0), reader.GetInt64(1)));
    }

    [Fact]
    public async Task S3_store_keeps_bytes_in_the_bucket_path_style_signed_and_metadata_in_MySql()
    {
        using var store = new S3AttachmentStore(_db.ConnectionString, new S3AttachmentOptions
        {
            ServiceUrl = _s3.Endpoint, Bucket = "kefu-files", Prefix = "att/", AccessKey = "AKIDTEST", SecretKey = "secret-not-logged", ForcePathStyle = true,
        });
        await RoundTripAsync(store);

        var id = await SaveAsync(store, "acme", Ulid.NewUlid().ToString(), Bytes(1000), DateTimeOffset.UtcNow);
        Assert.Equal(Bytes(1000), _s3.Objects[$"/kefu-files/att/{id}"]);
        Assert.All(_s3.Requests, r => Assert.StartsWith("AWS4-HMAC-SHA256 Credential=AKIDTEST/", r.Authorization, StringComparison.Ordinal));
        Assert.Contains(_s3.Requests, r => r.Method == "DELETE");
        Assert.True(await store.DeleteAsync(id, CancellationToken.None));
        Assert.False(_s3.Objects.ContainsKey($"/kefu-files/att/{id}"));
    }

    [Fact]
    public async Task The_store_is_chosen_by_configuration_with_mysql_the_cluster_default()
    {
        IConfiguration Config(params (string Key, string Value)[] pairs) =>
            new ConfigurationBuilder().AddInMemoryCollection(pairs.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value))).Build();

        Assert.Equal("disk", AttachmentStorageServices.StoreKind(Config()));
        Assert.Equal("mysql", AttachmentStorageServices.StoreKind(Config(("ConnectionStrings:kefu", _db.ConnectionString))));
        Assert.Equal("s3", AttachmentStorageServices.StoreKind(Config(("ConnectionStrings:kefu", _db.ConnectionString), ("Kefu:Attachments:Store", "S3"))));
        Assert.Equal("disk", AttachmentStorageServices.StoreKind(Config(("ConnectionStrings:kefu", _db.ConnectionString), ("Kefu:Attachments:Store", "disk"))));
        Assert.Throws<InvalidOperationException>(() => AttachmentStorageServices.StoreKind(Config(("Kefu:Attachments:Store", "ftp"))));
    }

    [Fact]
    public async Task The_retention_holder_prunes_one_tenants_old_attachments_in_chunks_and_releases_their_bytes()
    {
        var store = new MySqlAttachmentStore(_db.ConnectionString, Chunk);
        var now = DateTimeOffset.UtcNow;
        var conversation = Ulid.NewUlid().ToString();
        var old = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            old.Add(await SaveAsync(store, "acme", conversation, Bytes(100), now.AddDays(-40 - i)));
        }

        var young = await SaveAsync(store, "acme", conversation, Bytes(50), now.AddDays(-1));
        var otherTenant = await SaveAsync(store, "other", conversation, Bytes(70), now.AddDays(-40));
        var usage = new UsageRecorder();
        var retention = new AttachmentRetention(store, usage.Factory, Options.Create(new AttachmentOptions { RetentionDays = 0 }), NullLogger<AttachmentRetention>.Instance);

        var cutoffs = new RetentionCutoffs(null, now.AddDays(-30), null);
        Assert.Equal(2, await retention.PruneAsync("acme", cutoffs, 2, CancellationToken.None));
        Assert.Equal(1, await retention.PruneAsync("acme", cutoffs, 2, CancellationToken.None));
        Assert.Equal(0, await retention.PruneAsync("acme", cutoffs, 2, CancellationToken.None));

        foreach (var id in old)
        {
            Assert.Null(await store.GetInfoAsync(id, CancellationToken.None));
        }

        Assert.NotNull(await store.GetInfoAsync(young, CancellationToken.None));
        Assert.NotNull(await store.GetInfoAsync(otherTenant, CancellationToken.None));
        Assert.Equal(300, usage.Released[$"acme/{conversation}"]);
        Assert.Equal(300, usage.Released["acme/tenant"]);
        Assert.False(usage.Released.ContainsKey("other/tenant"));

        // The default sweep skips tenants with a policy of their own.
        var byDefault = new AttachmentRetention(store, usage.Factory, Options.Create(new AttachmentOptions { RetentionDays = 30 }), NullLogger<AttachmentRetention>.Instance);
        Assert.Equal(0, await byDefault.SweepAsync(now, new HashSet<string>(["other"]), CancellationToken.None));
        Assert.Equal(1, await byDefault.SweepAsync(now, CancellationToken.None));
        Assert.Null(await store.GetInfoAsync(otherTenant, CancellationToken.None));
    }

    private static async Task RoundTripAsync(IAttachmentStore store)
    {
        var (tenant, conversation, other) = ("acme", Ulid.NewUlid().ToString(), Ulid.NewUlid().ToString());
        var now = DateTimeOffset.UtcNow;
        var big = Bytes((3 * Chunk) + 17);
        var first = await SaveAsync(store, tenant, conversation, big, now.AddDays(-3));
        var empty = await SaveAsync(store, tenant, conversation, [], now.AddDays(-2));
        var elsewhere = await SaveAsync(store, tenant, other, Bytes(10), now.AddDays(-1));

        var info = await store.GetInfoAsync(first, CancellationToken.None);
        Assert.NotNull(info);
        Assert.Equal((tenant, conversation, "file.bin", "application/pdf", big.LongLength, "visitor", "v-1"),
            (info.Tenant, info.ConversationId, info.Name, info.ContentType, info.Size, info.UploaderRole, info.UploaderId));
        Assert.Equal(big, await ReadAllAsync(await store.OpenReadAsync(first, CancellationToken.None)));
        Assert.Empty(await ReadAllAsync(await store.OpenReadAsync(empty, CancellationToken.None)));

        Assert.Equal([first, empty], await ToListAsync(store.ListByConversationAsync(tenant, conversation, CancellationToken.None)));
        Assert.Empty(await ToListAsync(store.ListByConversationAsync("someone-else", conversation, CancellationToken.None)));
        var olderThanADayAndAHalf = await ToListAsync(store.ListAsync(now.AddDays(-1.5), CancellationToken.None));
        Assert.Contains(first, olderThanADayAndAHalf);
        Assert.Contains(empty, olderThanADayAndAHalf);
        Assert.DoesNotContain(elsewhere, olderThanADayAndAHalf);

        Assert.True(await store.DeleteAsync(first, CancellationToken.None));
        Assert.False(await store.DeleteAsync(first, CancellationToken.None));
        Assert.Null(await store.GetInfoAsync(first, CancellationToken.None));
        Assert.Null(await store.OpenReadAsync(first, CancellationToken.None));
        Assert.Null(await store.GetInfoAsync("not-a-ulid", CancellationToken.None));
        Assert.Null(await store.OpenReadAsync(Ulid.NewUlid().ToString(), CancellationToken.None));

        // An interrupted upload (its bytes failed half way) is invisible and is a leftover a day later.
        var interrupted = Ulid.NewUlid(now.AddDays(-2)).ToString();
        await Assert.ThrowsAsync<IOException>(() => store.SaveAsync(
            new AttachmentInfo(interrupted, tenant, conversation, "x.bin", "application/pdf", 10, "visitor", "v-1", now.AddDays(-2)), new FailingStream(), CancellationToken.None));
        Assert.Null(await store.GetInfoAsync(interrupted, CancellationToken.None));
        Assert.Equal(0, await store.DeleteLeftoversAsync(now.AddDays(-3), CancellationToken.None));
        Assert.Equal(1, await store.DeleteLeftoversAsync(now.AddDays(-1), CancellationToken.None));
    }

    private static async Task<string> SaveAsync(IAttachmentStore store, string tenant, string conversation, byte[] bytes, DateTimeOffset createdAt)
    {
        var id = Ulid.NewUlid(createdAt).ToString();
        using var content = new MemoryStream(bytes);
        await store.SaveAsync(new AttachmentInfo(id, tenant, conversation, "file.bin", "application/pdf", bytes.Length, "visitor", "v-1", createdAt), content, CancellationToken.None);
        return id;
    }

    private static byte[] Bytes(int length) => [.. Enumerable.Range(0, length).Select(i => (byte)(i * 31 + (i >> 8)))];

    private static async Task<byte[]> ReadAllAsync(Stream? stream)
    {
        Assert.NotNull(stream);
        await using (stream)
        {
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            return copy.ToArray();
        }
    }

    private static async Task<List<string>> ToListAsync(IAsyncEnumerable<AttachmentInfo> items)
    {
        var list = new List<string>();
        await foreach (var item in items)
        {
            list.Add(item.AttachmentId);
        }

        return list;
    }

    /// <summary>An upload whose connection dies after a few bytes.</summary>
    private sealed class FailingStream : MemoryStream
    {
        public FailingStream()
            : base(new byte[10])
        {
        }

        public override bool CanSeek => false;

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromException<int>(new IOException("The client went away."));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromException<int>(new IOException("The client went away."));
    }

    /// <summary>An <see cref="IGrainFactory"/> whose usage grains record what is released (no cluster needed).</summary>
    private sealed class UsageRecorder
    {
        public UsageRecorder() => Factory = FactoryProxy.Create(this);

        public Dictionary<string, long> Released { get; } = new(StringComparer.Ordinal);

        public IGrainFactory Factory { get; }

        public class FactoryProxy : DispatchProxy
        {
            private UsageRecorder _owner = null!;

            public static IGrainFactory Create(UsageRecorder owner)
            {
                var proxy = DispatchProxy.Create<IGrainFactory, FactoryProxy>();
                ((FactoryProxy)(object)proxy)._owner = owner;
                return proxy;
            }

            protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
            {
                if (targetMethod?.Name != nameof(IGrainFactory.GetGrain) || args is not [string key, ..])
                {
                    throw new NotSupportedException(targetMethod?.Name);
                }

                var grain = DispatchProxy.Create<IAttachmentUsageGrain, UsageProxy>();
                ((UsageProxy)(object)grain).Init(_owner, key);
                return grain;
            }
        }

        public class UsageProxy : DispatchProxy
        {
            private UsageRecorder _owner = null!;
            private string _key = string.Empty;

            public void Init(UsageRecorder owner, string key) => (_owner, _key) = (owner, key);

            protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
            {
                if (targetMethod?.Name != nameof(IAttachmentUsageGrain.Release) || args is not [long bytes])
                {
                    throw new NotSupportedException(targetMethod?.Name);
                }

                lock (_owner.Released)
                {
                    _owner.Released[_key] = _owner.Released.GetValueOrDefault(_key) + bytes;
                }

                return Task.CompletedTask;
            }
        }
    }
}
