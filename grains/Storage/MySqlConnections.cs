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
