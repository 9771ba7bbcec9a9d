using Kefu.Grains.Directory;
using Kefu.Grains.Search;
using Kefu.Grains.Storage;
using Kefu.Grains.Tests.Search;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Kefu.Storage.Tests.Search;

/// <summary>The search backfill's contract on MariaDB: kefu_message, kefu_conversation's key walk and kefu_search_message.</summary>
public sealed class MySqlSearchBackfillTests(MariaDbDatabase database) : SearchBackfillContract, IClassFixture<MariaDbDatabase>, IAsyncLifetime
{
    private MySqlMessageStore? _store;

    private IOptions<MySqlMessageStoreOptions> Options => Microsoft.Extensions.Options.Options.Create(new MySqlMessageStoreOptions { ConnectionString = database.ConnectionString });

    protected override ISearchIndex Index => new MySqlSearchIndex(Options);

    protected override IConversationDirectory Directory => new MySqlConversationDirectory(Options);

    protected override IMessageStore Store => _store ??= new MySqlMessageStore(Options, NullLogger<MySqlMessageStore>.Instance);

    protected override ISearchBackfillSource Source => new MySqlSearchBackfillSource(Options);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }
    }

    [Fact]
    public async Task Two_runs_over_the_same_history_leave_one_row_per_message()
    {
        var tenant = NewTenant();
        var id = Ulid.NewUlid().ToString();
        await Directory.UpsertAsync(new Kefu.Contracts.Messages.ConversationSummary(id, tenant, "default", "v1", null, "open", null, 2, DateTimeOffset.UtcNow, [], Tags: []));
        for (var seq = 1; seq <= 2; seq++)
        {
            await Store.AppendAsync(tenant, new Kefu.Contracts.Messages.ChatMessage(id, Ulid.NewUlid(), seq,
                new Kefu.Contracts.Messages.Sender(Kefu.Contracts.Messages.ParticipantRole.Visitor, "v1", null), $"row {seq}", DateTimeOffset.UtcNow, null));
        }

        for (var run = 0; run < 2; run++)
        {
            var step = await new SearchBackfill(Source, Store, Index).StepAsync(tenant, SearchBackfillPosition.Start, budget: 500);
            Assert.True(step.Done);
        }

        await using var connection = new MySqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand("SELECT COUNT(*) FROM kefu_search_message WHERE tenant = @t", connection);
        command.Parameters.AddWithValue("@t", tenant);
        Assert.Equal(2L, Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
    }
}
