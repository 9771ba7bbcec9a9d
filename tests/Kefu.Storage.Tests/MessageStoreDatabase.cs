using System.Globalization;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Kefu.Storage.Tests;

/// <summary>A fresh database (deploy/mysql/*.sql applied) and the message stores a test makes on it, disposed together.</summary>
internal sealed class MessageStoreDatabase
{
    private readonly MariaDbDatabase _db = new();
    private readonly List<MySqlMessageStore> _stores = [];

    public string ConnectionString => _db.ConnectionString;

    public string Name => _db.Name;

    public Task InitializeAsync() => _db.InitializeAsync();

    public MySqlMessageStore Store(Action<MySqlMessageStoreOptions>? configure = null)
    {
        var options = new MySqlMessageStoreOptions { ConnectionString = _db.ConnectionString };
        configure?.Invoke(options);
        var store = new MySqlMessageStore(Options.Create(options), NullLogger<MySqlMessageStore>.Instance);
        _stores.Add(store);
        return store;
    }

    public async Task<MySqlConnection> OpenAsync()
    {
        var connection = new MySqlConnection(_db.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>Blocks every write to kefu_message until <see cref="UnlockAsync"/>, to hold the store's writer still.</summary>
    public async Task<MySqlConnection> LockTableAsync()
    {
        var connection = await OpenAsync();
        await using var command = new MySqlCommand("LOCK TABLES kefu_message WRITE", connection);
        await command.ExecuteNonQueryAsync();
        return connection;
    }

    public static async Task UnlockAsync(MySqlConnection connection)
    {
        await using var command = new MySqlCommand("UNLOCK TABLES", connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// Waits until the store's INSERT (alone, or inside a transaction with its events) is waiting for the table lock, so
    /// what is appended next queues behind it.
    /// </summary>
    public Task UntilInsertIsWaitingAsync() => Wait.UntilAsync(async () =>
    {
        await using var connection = await OpenAsync();
        await using var command = new MySqlCommand(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID() AND INFO LIKE '%INSERT INTO kefu_message%'", connection); // not this query itself
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture) > 0;
    }, "the store's INSERT waits for the table lock");

    public async Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        await _db.DisposeAsync();
    }
}
