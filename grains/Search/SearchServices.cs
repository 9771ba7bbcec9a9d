using System.Collections.Concurrent;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Grains.DataProtection;
using Kefu.Grains.Events;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Search;

/// <summary>Bound from <c>Kefu:Search</c> (docs/search.md).</summary>
public sealed class SearchOptions
{
    public const string Section = "Kefu:Search";

    /// <summary>How often an indexer looks for messages committed on other silos (this silo's wake it at once).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Events one indexer step reads and indexes (one INSERT per 200 of them).</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>Messages one backfill step reads from the message store and indexes (docs/search.md "Backfill").</summary>
    public int BackfillBatchSize { get; set; } = 500;

    /// <summary>The backfill's rest between two steps: what keeps it from competing with chat for the database.</summary>
    public TimeSpan BackfillPause { get; set; } = TimeSpan.FromMilliseconds(200);
}

/// <summary>Wakes a tenant's search indexer when a message or note is committed on this silo.</summary>
public sealed class SearchWakeups : TenantWakeups;

public static class SearchServices
{
    /// <summary>
    /// Search on a silo: the index (MySQL when the message store has a connection string, memory otherwise), the
    /// indexers' start and wake-ups, the backfill from the message store, and the index's retention and erasure holders.
    /// </summary>
    public static IServiceCollection AddKefuSearch(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SearchOptions>()
            .Bind(configuration.GetSection(SearchOptions.Section))
            .Validate(o => o.PollInterval > TimeSpan.Zero && o.BatchSize is >= 1 and <= 5000, "Kefu:Search: PollInterval must be positive; BatchSize 1 to 5000.")
            .Validate(o => o.BackfillPause > TimeSpan.Zero && o.BackfillBatchSize is >= 1 and <= 5000, "Kefu:Search: BackfillPause must be positive; BackfillBatchSize 1 to 5000.")
            .ValidateOnStart();
        services.TryAddSingleton<ISearchIndex>(sp =>
            sp.GetService<IOptions<MySqlMessageStoreOptions>>()?.Value.ConnectionString is { Length: > 0 }
                ? ActivatorUtilities.CreateInstance<MySqlSearchIndex>(sp)
                : ActivatorUtilities.CreateInstance<InMemorySearchIndex>(sp));
        services.TryAddSingleton<ISearchBackfillSource>(sp =>
            sp.GetService<IOptions<MySqlMessageStoreOptions>>()?.Value.ConnectionString is { Length: > 0 }
                ? ActivatorUtilities.CreateInstance<MySqlSearchBackfillSource>(sp)
                : ActivatorUtilities.CreateInstance<DirectorySearchBackfillSource>(sp));
        services.TryAddSingleton<SearchBackfill>();
        services.TryAddSingleton<SearchWakeups>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConversationEventSink, SearchIndexSink>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRetentionHolder, SearchRetentionHolder>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPersonalDataHolder, SearchPersonalDataHolder>());
        return services;
    }
}

/// <summary>
/// Starts a tenant's search indexer on the first message or note this silo commits for it, then only wakes it. Returns
/// at once, as sinks must.
/// </summary>
internal sealed class SearchIndexSink(IGrainFactory grains, SearchWakeups wakeups) : IConversationEventSink
{
    private readonly ConcurrentDictionary<string, byte> _started = new(StringComparer.Ordinal);

    public void OnCommitted(CommittedChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        if (!change.Events.Any(e => e.Type is EventTypes.MessageCreated or EventTypes.NoteCreated))
        {
            return;
        }

        if (_started.TryAdd(change.Tenant, 0))
        {
            grains.GetGrain<ISearchIndexerGrain>(change.Tenant).Start().ContinueWith(
                t => _started.TryRemove(change.Tenant, out _), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            return;
        }

        wakeups.Notify(change.Tenant, change.Events);
    }
}

/// <summary>The index is derived from messages: its rows go with the messages' retention (<see cref="RetentionCutoffs.MessagesBefore"/>).</summary>
public sealed class SearchRetentionHolder(ISearchIndex index) : IRetentionHolder
{
    public string Name => "search";

    public async Task<int> PruneAsync(string tenant, RetentionCutoffs cutoffs, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cutoffs);
        return cutoffs.MessagesBefore is { } before ? await index.PruneAsync(tenant, before, limit, cancellationToken) : 0;
    }
}

/// <summary>Erasure removes the index rows of the contact's conversations.</summary>
public sealed class SearchPersonalDataHolder(ISearchIndex index) : IPersonalDataHolder
{
    public string Name => "search";

    /// <summary>
    /// Writes nothing: the index holds only excerpts of the messages and notes the messages holder exports in full, and
    /// hashed tokens that mean nothing outside it.
    /// </summary>
    public Task ExportAsync(PersonalDataScope scope, IPersonalDataExportWriter writer, CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<long> EraseAsync(PersonalDataScope scope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scope);
        return scope.ConversationIds.Count == 0 ? 0 : await index.DeleteConversationsAsync(scope.Tenant, scope.ConversationIds, cancellationToken);
    }
}
