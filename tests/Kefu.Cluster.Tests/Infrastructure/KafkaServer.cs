using System.Text.RegularExpressions;

namespace Kefu.Cluster.Tests.Infrastructure;

/// <summary>A Kafka mock cluster of this test's own (scripts/kafka.sh with a private directory), stopped by its PID on dispose.</summary>
public sealed partial class KafkaServer : IAsyncDisposable
{
    private readonly Dictionary<string, string> _environment;

    private KafkaServer(Dictionary<string, string> environment, string bootstrap)
    {
        _environment = environment;
        Bootstrap = bootstrap;
    }

    /// <summary>The brokers, <c>host:port,…</c>.</summary>
    public string Bootstrap { get; }

    /// <summary>The PID of the process that keeps the cluster alive.</summary>
    public int Pid => int.Parse(File.ReadAllText(Path.Combine(_environment["KEFU_KAFKA_DIR"], "kafka.pid")).Trim(), System.Globalization.CultureInfo.InvariantCulture);

    public static async Task<KafkaServer> StartAsync()
    {
        var environment = new Dictionary<string, string>
        {
            ["KEFU_KAFKA_DIR"] = Path.Combine(MariaDbDatabase.RepositoryRoot, ".tmp", $"kafka-{Guid.NewGuid():N}"[..18]),
        };
        var output = await RunAsync(environment, "start");
        var match = ExportLine().Match(output);
        return match.Success
            ? new KafkaServer(environment, match.Groups[1].Value)
            : throw new InvalidOperationException("scripts/kafka.sh start printed no bootstrap servers:\n" + output);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Directory.Delete(_environment["KEFU_KAFKA_DIR"], recursive: true);
    }

    public Task StopAsync() => RunAsync(_environment, "stop");

    private static Task<string> RunAsync(Dictionary<string, string> environment, string verb) => Scripts.RunAsync("kafka.sh", environment, verb);

    [GeneratedRegex("export KEFU_KAFKA='([^']+)'")]
    private static partial Regex ExportLine();
}
