using System.Globalization;
using Kefu.Grains.Inbound.Kafka;

namespace Kefu.Gateway.Hosting;

/// <summary>
/// <c>Kefu.Gateway kafka replay-dlq [--Kefu:Kafka:…=…]</c>: sends every record of the <c>customer_events</c> dead-letter
/// topic back to <c>customer_events</c> (original key, value and headers; <see cref="DeadLetterReplayer"/>) and exits:
/// 0 when all went back, 1 on a Kafka error, 2 on a usage error. Reads the same configuration as the gateway
/// (appsettings.json, <c>Kefu__Kafka__BootstrapServers</c>, <c>--Kefu:Kafka:BootstrapServers=…</c>); starts no silo.
/// </summary>
public static class KafkaReplayCommand
{
    public const string Usage = "usage: Kefu.Gateway kafka replay-dlq [--Kefu:Kafka:BootstrapServers=host:port,…] [--Kefu:Kafka:CustomerEvents:DeadLetterTopic=…]";

    /// <summary>Null when <paramref name="args"/> is not this command (the gateway starts as usual); else the exit code.</summary>
    public static async Task<int?> TryRunAsync(string[] args, TextWriter output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        if (args is not ["kafka", ..])
        {
            return null;
        }

        if (args is not ["kafka", "replay-dlq", ..] || args[2..].Any(a => !a.StartsWith("--", StringComparison.Ordinal)))
        {
            await output.WriteLineAsync(Usage);
            return 2;
        }

        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(args[2..])
            .Build();
        try
        {
            var replayer = DeadLetterReplayer.From(configuration);
            var count = await replayer.ReplayAsync(record => output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"replayed {record.Topic} partition {record.Partition.Value} offset {record.Offset.Value} → {replayer.Topic}")), cancellationToken);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{count} record{(count == 1 ? "" : "s")} replayed from {replayer.DeadLetterTopic} to {replayer.Topic}"));
            return 0;
        }
        catch (InvalidOperationException e)
        {
            await output.WriteLineAsync(e.Message);
            return 2;
        }
        catch (Exception e) when (e is Confluent.Kafka.KafkaException or TimeoutException)
        {
            await output.WriteLineAsync($"replay stopped: {e.Message}");
            return 1;
        }
    }
}
