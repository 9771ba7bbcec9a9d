using Kefu.Grains.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

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

    public async Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        await _db.DisposeAsync();
    }
}
