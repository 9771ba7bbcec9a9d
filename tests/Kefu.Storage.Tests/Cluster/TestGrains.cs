using System.Collections.Concurrent;
using Orleans.Runtime;

namespace Kefu.Storage.Tests.Cluster;

[GenerateSerializer]
public sealed class StoredText
{
    [Id(0)]
    public string Text { get; set; } = string.Empty;

    [Id(1)]
    public int Writes { get; set; }
}

/// <summary>What a <see cref="IStoredTextGrain"/> activation holds, including the storage ETag.</summary>
[GenerateSerializer]
[Immutable]
public sealed record StoredTextView(
    [property: Id(0)] string Text,
    [property: Id(1)] int Writes,
    [property: Id(2)] string? ETag,
    [property: Id(3)] bool RecordExists);

public interface IStoredTextGrain : IGrainWithStringKey
{
    Task<StoredTextView> ReadAsync();

    Task WriteAsync(string text);

    Task ClearAsync();

    Task DeactivateAsync();
}

/// <summary>A grain with one persistent state in the "kefu" ADO.NET storage.</summary>
public sealed class StoredTextGrain(
    [PersistentState("storedText", KefuOrleansWiring.StorageName)] IPersistentState<StoredText> state)
    : Grain, IStoredTextGrain
{
    public Task<StoredTextView> ReadAsync() =>
        Task.FromResult(new StoredTextView(state.State.Text, state.State.Writes, state.Etag, state.RecordExists));

    public async Task WriteAsync(string text)
    {
        state.State.Text = text;
        state.State.Writes++;
        await state.WriteStateAsync();
    }

    public Task ClearAsync() => state.ClearStateAsync();

    public Task DeactivateAsync()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}

public interface ITickingGrain : IGrainWithStringKey
{
    Task StartTickingAsync(TimeSpan period);

    Task StopTickingAsync();
}

/// <summary>A grain with one reminder; every tick is recorded in <see cref="ReminderTicks"/> with the silo it ran on.</summary>
public sealed class TickingGrain(ILocalSiloDetails silo) : Grain, ITickingGrain, IRemindable
{
    public const string ReminderName = "tick";

    public Task StartTickingAsync(TimeSpan period) => this.RegisterOrUpdateReminder(ReminderName, period, period);

    public async Task StopTickingAsync()
    {
        if (await this.GetReminder(ReminderName) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        ReminderTicks.Record(this.GetPrimaryKeyString(), silo.SiloAddress);
        return Task.CompletedTask;
    }
}

/// <summary>Reminder ticks seen in this test process (silos run in-process), per grain key.</summary>
public static class ReminderTicks
{
    private static readonly ConcurrentDictionary<string, ConcurrentQueue<SiloAddress>> Ticks = new();

    public static void Record(string grainKey, SiloAddress silo) =>
        Ticks.GetOrAdd(grainKey, _ => new ConcurrentQueue<SiloAddress>()).Enqueue(silo);

    public static int Count(string grainKey, SiloAddress silo) =>
        Ticks.TryGetValue(grainKey, out var ticks) ? ticks.Count(s => s.Equals(silo)) : 0;
}
