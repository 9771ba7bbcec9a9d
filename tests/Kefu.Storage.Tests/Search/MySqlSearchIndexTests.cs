using Kefu.Grains.Directory;
using Kefu.Grains.Search;
using Kefu.Grains.Storage;
using Kefu.Grains.Tests.Search;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Kefu.Storage.Tests.Search;

/// <summary>The search index's contract on MariaDB (deploy/mysql/014-search.sql), plus what only the table shows.</summary>
public sealed class MySqlSearchIndexTests(MariaDbDatabase database) : SearchIndexContract, IClassFixture<MariaDbDatabase>
{
    private IOptions<MySqlMessageStoreOptions> Options => Microsoft.Extensions.Options.Options.Create(new MySqlMessageStoreOptions { ConnectionString = database.ConnectionString });

    protected override ISearchIndex Index => new MySqlSearchIndex(Options);

    protected override IConversationDirectory Directory => new MySqlConversationDirectory(Options);

    [Fact]
    public async Task The_table_holds_only_hashed_ascii_tokens_and_a_short_excerpt()
    {
        var tenant = NewTenant();
        var id = await ConversationAsync(tenant, DateTimeOffset.UtcNow);
        var text = "我的地址是北京市朝阳区 " + new string('z', 3000);
        await AddAsync(tenant, id, 1, DateTimeOffset.UtcNow, text);

        await using var connection = new MySqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand("SELECT tokens, excerpt FROM kefu_search_message WHERE tenant = @t", connection);
        command.Parameters.AddWithValue("@t", tenant);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        var tokens = reader.GetString(0);
        Assert.Matches("^(t[a-z2-7]{13} ?)+$", tokens);
        Assert.DoesNotContain("北京", tokens, StringComparison.Ordinal);
        Assert.Equal(SearchText.ExcerptLength, reader.GetString(1).Length);
        // The whole text is searchable, not only the excerpt.
        Assert.Single((await SearchAsync(tenant, new string('z', 3000))).Results);
    }
}
