using System.Text.RegularExpressions;

namespace Kefu.Cluster.Tests.Infrastructure;

/// <summary>
/// A MariaDB instance of this test's own (scripts/mariadb.sh with a private data directory and port), so a test can
/// restart it without disturbing anything else. The `kefu` database has the schema applied.
/// </summary>
public sealed partial class MariaDbServer : IAsyncDisposable
{
    private readonly Dictionary<string, string> _environment;

    private MariaDbServer(Dictionary<string, string> environment, string connectionString)
    {
        _environment = environment;
        ConnectionString = connectionString;
    }

    public string ConnectionString { get; }

    public static async Task<MariaDbServer> StartAsync()
    {
        var environment = new Dictionary<string, string>
        {
            ["KEFU_MARIADB_DIR"] = Path.Combine(MariaDbDatabase.RepositoryRoot, ".tmp", $"mariadb-{Guid.NewGuid():N}"[..20]),
            ["KEFU_MARIADB_PORT"] = KefuProcess.FreePort().ToString(),
        };
        var output = await RunAsync(environment, "start");
        var match = ExportLine().Match(output);
        if (!match.Success)
        {
            throw new InvalidOperationException("scripts/mariadb.sh start printed no connection string:\n" + output);
        }

        return new MariaDbServer(environment, match.Groups[1].Value);
    }

    public Task RestartAsync() => RunAsync(_environment, "restart");

    public async ValueTask DisposeAsync()
    {
        await RunAsync(_environment, "stop");
        Directory.Delete(_environment["KEFU_MARIADB_DIR"], recursive: true);
    }

    private static Task<string> RunAsync(Dictionary<string, string> environment, string verb) => Scripts.RunAsync("mariadb.sh", environment, verb);

    [GeneratedRegex("export KEFU_MYSQL='([^']+)'")]
    private static partial Regex ExportLine();
}
