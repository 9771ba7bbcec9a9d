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
/// (a round trip and a <c>SET NAMES</c>) every time, and at a fixed rate that doubled the ack latency of a send; a busy
/// writer keeps its own instead. One idle for longer than <see cref="MaxIdle"/> goes back to the pool. A kept connection
/// may have died meanwhile (a database restart): <see cref="WasReused"/> tells the writer to try such a batch once more on
/// a new connection, and a connection that failed is never used again.
/// </summary>
internal sealed class HeldConnection(string connectionString, TimeProvider time) : IAsyncDisposable
{
    public static readonly TimeSpan MaxIdle = TimeSpan.FromSeconds(5);

    private MySqlConnection? _connection;
    private long _lastUsed;

    /// <summary>Whether the connection <see cref="GetAsync"/> returned last was kept from an earlier batch.</summary>
    public bool WasReused { get; private set; }

    public async Task<MySqlConnection> GetAsync()
    {
        if (_connection is not null && time.GetElapsedTime(_lastUsed) > MaxIdle)
        {
            await DropAsync().ConfigureAwait(false);
        }

        WasReused = _connection is not null;
        _connection ??= await MySqlConnections.OpenAsync(connectionString, CancellationToken.None).ConfigureAwait(false);
        _lastUsed = time.GetTimestamp();
        return _connection;
    }

    /// <summary>After a failure: the connection may be mid-transaction or broken.</summary>
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
