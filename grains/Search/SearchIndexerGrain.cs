using System.Text.Json;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Grains.Events;
using Kefu.Grains.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Search;

[GenerateSerializer]
public sealed class SearchIndexerState
{
    /// <summary>Every message and note up to here is in the index.</summary>
    [Id(0)] public long Cursor { get; set; }

    [Id(1)] public long Indexed { get; set; }

    [Id(2)] public bool Started { get; set; }
}

/// <summary>
/// Keeps a tenant's search index (docs/search.md): reads <c>message.created</c> and <c>note.created</c> after a durable
/// cursor (the <see cref="EventLogPump"/> pattern), turns each into a <see cref="SearchDocument"/> and adds a page of them
/// to the index before it moves the cursor. At least once, and harmless: the index keeps a document it already has.
/// Started by the first such event a silo commits for the tenant (<see cref="SearchIndexSink"/>); a reminder keeps it
/// running, since there is no list of tenants to start at boot. It also starts the tenant's one-time backfill
/// (<see cref="SearchBackfillGrain"/>) for messages older than the event log.
/// </summary>
public sealed partial class SearchIndexerGrain(
    [PersistentState("searchIndexer", KefuStorage.Name)] IPersistentState<SearchIndexerState> state,
    IEventLog eventLog,
    ISearchIndex index,
    SearchWakeups wakeups,
    IOptions<SearchOptions> options,
    ILogger<SearchIndexerGrain> logger) : Grain, ISearchIndexerGrain, IRemindable
{
    private const string KeepAliveReminder = "search-indexer";
    private static readonly string[] Types = [EventTypes.MessageCreated, EventTypes.NoteCreated];

    private EventLogPump? _pump;

    private string Tenant => this.GetPrimaryKeyString();

    private EventLogPump Pump => _pump ??= new(wakeups, Tenant, PumpAsync);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Started)
        {
            StartPump();
            StartBackfill();
        }

        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _pump?.Stop();
        return Task.CompletedTask;
    }

    public async Task Start()
    {
        if (!state.State.Started)
        {
            state.State.Started = true;
            await state.WriteStateAsync();
        }

        if (await this.GetReminder(KeepAliveReminder) is null)
        {
            await this.RegisterOrUpdateReminder(KeepAliveReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        }

        StartPump();
        Pump.Wake(mayStart: true);
        StartBackfill();
    }

    public Task Poke() => PumpAsync();

    public Task<SearchIndexerStatus> GetStatus() => Task.FromResult(new SearchIndexerStatus(state.State.Cursor, state.State.Indexed));

    public Task ReceiveReminder(string reminderName, TickStatus status) => Task.CompletedTask; // activation is the point

    /// <summary>
    /// The event log holds only recent messages: the first time a tenant's indexer runs, the backfill indexes the rest
    /// from the message store. Not awaited: once done this is one cheap call per activation.
    /// </summary>
    private void StartBackfill() => GrainFactory.GetGrain<ISearchBackfillGrain>(Tenant).StartIfNew().Ignore();

    private void StartPump()
    {
        var self = this.AsReference<ISearchIndexerGrain>();
        Pump.Start(this, () => self.Poke().Ignore(), options.Value.PollInterval, Types.ToHashSet(StringComparer.Ordinal));
    }

    private Task PumpAsync() => Pump.DrainPagesAsync(() => state.State.Started, StepAsync, ex => LogPumpFailed(logger, ex, Tenant));

    /// <summary>One page indexed and the cursor stored. True when the page was full (more may follow).</summary>
    private async Task<bool> StepAsync()
    {
        var s = state.State;
        var batch = options.Value.BatchSize;
        var page = await eventLog.ReadAsync(Tenant, s.Cursor, Types, batch);
        var documents = page.Events.Select(Document).OfType<SearchDocument>().ToArray();
        if (documents.Length > 0)
        {
            await index.AddAsync(documents);
        }

        if (page.Next != s.Cursor)
        {
            s.Cursor = page.Next;
            s.Indexed += documents.Length;
            await state.WriteStateAsync();
        }

        return page.Events.Length == batch;
    }

    /// <summary>The document of a message.created or note.created event; null when it has no text to find (or is not one).</summary>
    public static SearchDocument? Document(StoredEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.ConversationId is not { } conversationId || string.IsNullOrEmpty(e.DataJson))
        {
            return null;
        }

        using var json = JsonDocument.Parse(e.DataJson);
        var root = json.RootElement;
        var (kind, property) = e.Type == EventTypes.NoteCreated ? (SearchKinds.Note, "note") : (SearchKinds.Message, "message");
        if (!root.TryGetProperty(property, out var item) || item.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var text = Str(item, "text");
        // An attachment is found by its file name as well as by any caption.
        if (item.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Object && Str(content, "name") is { Length: > 0 } name)
        {
            text = text.Length == 0 ? name : text + "\n" + name;
        }

        if (text.Length == 0)
        {
            return null;
        }

        var sender = item.TryGetProperty(kind == SearchKinds.Note ? "author" : "sender", out var s) && s.ValueKind == JsonValueKind.Object ? Str(s, "role") : "";
        var seq = kind == SearchKinds.Message && item.TryGetProperty("seq", out var q) && q.ValueKind == JsonValueKind.Number ? q.GetInt64() : e.Seq;
        return new SearchDocument(e.Tenant, conversationId, kind, seq, e.Time, sender.Length == 0 ? "system" : sender, text);
    }

    private static string Str(JsonElement element, string name) =>
        element.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";

    [LoggerMessage(Level = LogLevel.Warning, Message = "The search indexer of tenant {Tenant} failed; it tries again from its cursor")]
    private static partial void LogPumpFailed(ILogger logger, Exception exception, string tenant);
}
