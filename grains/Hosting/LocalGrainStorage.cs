using System.Globalization;
using Orleans.Storage;

namespace Kefu.Grains.Hosting;

/// <summary>
/// Grain state in this process's memory, for the embedded default (one silo, nothing durable). Orleans' own memory
/// storage keeps state in storage grains; when the silo shuts down those grains go first, so every grain that writes
/// while deactivating (a conversation saving its read marks) failed with "invalid activation" / "no active nodes" and
/// the shutdown printed pages of errors. A plain dictionary is there until the process ends. Same semantics as the
/// durable providers: serialized copies (no sharing with the grain's live object) and ETag checks on write.
/// </summary>
public sealed class LocalGrainStorage(IGrainStorageSerializer serializer) : IGrainStorage
{
    private readonly Dictionary<(string State, GrainId Grain), Stored> _states = [];
    private readonly Lock _gate = new();
    private long _version;

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        Stored? stored;
        lock (_gate)
        {
            _states.TryGetValue((stateName, grainId), out stored);
        }

        if (stored is not null)
        {
            grainState.State = serializer.Deserialize<T>(stored.Data);
            grainState.ETag = stored.ETag;
            grainState.RecordExists = true;
        }
        else
        {
            grainState.ETag = null;
            grainState.RecordExists = false;
        }

        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var data = serializer.Serialize(grainState.State);
        lock (_gate)
        {
            Check(stateName, grainId, grainState.ETag);
            var etag = (++_version).ToString(CultureInfo.InvariantCulture);
            _states[(stateName, grainId)] = new Stored(data, etag);
            grainState.ETag = etag;
            grainState.RecordExists = true;
        }

        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        lock (_gate)
        {
            Check(stateName, grainId, grainState.ETag);
            _states.Remove((stateName, grainId));
            grainState.ETag = null;
            grainState.RecordExists = false;
        }

        return Task.CompletedTask;
    }

    private void Check(string stateName, GrainId grainId, string? etag)
    {
        var current = _states.TryGetValue((stateName, grainId), out var stored) ? stored.ETag : null;
        if (current != etag)
        {
            throw new InconsistentStateException($"ETag mismatch for {stateName} of {grainId}", current ?? "none", etag ?? "none");
        }
    }

    private sealed record Stored(BinaryData Data, string ETag);
}
