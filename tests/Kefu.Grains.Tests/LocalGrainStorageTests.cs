using System.Text.Json;
using Kefu.Grains.Hosting;
using Orleans.Storage;

namespace Kefu.Grains.Tests;

/// <summary>The embedded single silo's grain storage: copies, ETags and clearing behave like a durable provider's.</summary>
public sealed class LocalGrainStorageTests
{
    private static readonly GrainId Grain = GrainId.Create("test", "one");

    [Fact]
    public async Task A_written_state_reads_back_as_a_copy_with_its_etag()
    {
        var storage = new LocalGrainStorage(new JsonSerializer());
        var written = new GrainState<Counter>(new Counter { Value = 3 });
        await storage.WriteStateAsync("counter", Grain, written);
        Assert.NotNull(written.ETag);
        written.State!.Value = 99; // The stored copy is not the grain's live object.

        var read = new GrainState<Counter>(new Counter());
        await storage.ReadStateAsync("counter", Grain, read);
        Assert.True(read.RecordExists);
        Assert.Equal(3, read.State!.Value);
        Assert.Equal(written.ETag, read.ETag);

        var missing = new GrainState<Counter>(new Counter());
        await storage.ReadStateAsync("counter", GrainId.Create("test", "other"), missing);
        Assert.False(missing.RecordExists);
        Assert.Null(missing.ETag);
    }

    [Fact]
    public async Task A_write_or_clear_with_a_stale_etag_is_refused()
    {
        var storage = new LocalGrainStorage(new JsonSerializer());
        var first = new GrainState<Counter>(new Counter { Value = 1 });
        await storage.WriteStateAsync("counter", Grain, first);
        var stale = new GrainState<Counter>(new Counter { Value = 2 }) { ETag = "stale" };
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("counter", Grain, stale));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync("counter", Grain, stale));

        await storage.ClearStateAsync("counter", Grain, first);
        Assert.False(first.RecordExists);
        var read = new GrainState<Counter>(new Counter());
        await storage.ReadStateAsync("counter", Grain, read);
        Assert.False(read.RecordExists);
    }

    public sealed class Counter
    {
        public int Value { get; set; }
    }

    private sealed class JsonSerializer : IGrainStorageSerializer
    {
        public BinaryData Serialize<T>(T? input) => BinaryData.FromString(System.Text.Json.JsonSerializer.Serialize(input));

        public T Deserialize<T>(BinaryData input) => System.Text.Json.JsonSerializer.Deserialize<T>(input.ToString())!;
    }
}
