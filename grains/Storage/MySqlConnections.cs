using MySqlConnector;

namespace Kefu.Grains.Storage;

internal static class MySqlConnections
{
    /// <summary>An open connection; one that fails to open is disposed, not left to the pool half made.</summary>
    public static async Task<MySqlConnection> OpenAsync(string connectionString, CancellationToken cancellationToken)
    {
        var connection = new MySqlConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}

/// <summary>
/// The connection one writer loop keeps between batches. Taking a pooled connection per batch costs the server a reset
/// and a <c>SET NAMES</c> each time (on this path, as many statements as the batches themselves); a busy writer keeps
/// its own instead. One idle for longer than <see cref="MaxIdle"/> goes back to the pool and the next batch takes a
/// fresh one, whose reset also finds a connection the server closed meanwhile. After a failure it is dropped, so a
/// broken connection is never used twice.
/// </summary>
internal sealed class HeldConnection(string connectionString, TimeProvider time) : IAsyncDisposable
{
    public static readonly TimeSpan MaxIdle = TimeSpan.FromSeconds(5);

    private MySqlConnection? _connection;
    private long _lastUsed;

    public async Task<MySqlConnection> GetAsync()
    {
        if (_connection is not null && time.GetElapsedTime(_lastUsed) > MaxIdle)
        {
            await DropAsync().ConfigureAwait(false);
        }

        _connection ??= await MySqlConnections.OpenAsync(connectionString, CancellationToken.None).ConfigureAwait(false);
        _lastUsed = time.GetTimestamp();
        return _connection;
    }

    /// <summary>After a failed batch: the connection may be mid-transaction or broken.</summary>
    public async Task DropAsync()
    {
        if (_connection is { } connection)
        {
            _connection = null;
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    public ValueTask DisposeAsync() => new(DropAsync());
}
