using MySqlConnector;

namespace Kefu.Storage.Tests;

/// <summary>
/// A fresh, empty database on the private MariaDB that scripts/test.sh starts (KEFU_MYSQL), with every
/// deploy/mysql/*.sql script applied in order, dropped again at the end.
/// </summary>
public sealed class MariaDbDatabase : IAsyncLifetime
{
    public const string Variable = "KEFU_MYSQL";

    public string ConnectionString { get; private set; } = string.Empty;

    public string Name { get; } = $"kefu_t_{Guid.NewGuid():N}"[..24];

    public static string ServerConnectionString =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{Variable} is not set. These tests need MariaDB: run them with ./scripts/test.sh, or `eval \"$(scripts/mariadb.sh start)\"` first.");

    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Orleans.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("Orleans.sln not found above " + AppContext.BaseDirectory);
        }
    }

    public static IEnumerable<string> SchemaScripts =>
        Directory.GetFiles(Path.Combine(RepositoryRoot, "deploy", "mysql"), "*.sql").Order(StringComparer.Ordinal);

    public async Task InitializeAsync()
    {
        var server = new MySqlConnectionStringBuilder(ServerConnectionString) { Database = string.Empty, AllowUserVariables = true };
        await using (var connection = new MySqlConnection(server.ConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new MySqlCommand($"CREATE DATABASE `{Name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci", connection);
            await create.ExecuteNonQueryAsync();
        }

        ConnectionString = new MySqlConnectionStringBuilder(ServerConnectionString) { Database = Name }.ConnectionString;
        foreach (var script in SchemaScripts)
        {
            await ApplyAsync(await File.ReadAllTextAsync(script));
        }
    }

    /// <summary>Runs a whole schema script as one multi-statement batch (our scripts use no DELIMITER).</summary>
    public async Task ApplyAsync(string script)
    {
        var builder = new MySqlConnectionStringBuilder(ConnectionString) { AllowUserVariables = true };
        await using var connection = new MySqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand(script, connection);
        await command.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync()
    {
        var server = new MySqlConnectionStringBuilder(ServerConnectionString) { Database = string.Empty };
        await using var connection = new MySqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        await using var drop = new MySqlCommand($"DROP DATABASE IF EXISTS `{Name}`", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
