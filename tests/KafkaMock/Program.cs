using System.Globalization;
using System.Runtime.InteropServices;
using Confluent.Kafka;

// A Kafka cluster for development and tests without installing Kafka: librdkafka's built-in mock cluster
// (../shared/ENVIRONMENT.md), kept alive by this process. It prints one line, `KEFU_KAFKA=host:port,…` (the bootstrap
// servers for Kefu, Confluent.Kafka clients and kcat), then runs until SIGTERM or SIGINT. Topics are created on first
// use with 4 partitions. scripts/kafka.sh starts and stops it by PID.
var brokers = 3;
for (var i = 0; i < args.Length; i++)
{
    if (args[i] == "--brokers" && i + 1 < args.Length && int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 9)
    {
        brokers = n;
    }
    else
    {
        await Console.Error.WriteLineAsync("usage: Kefu.KafkaMock [--brokers 1-9]");
        return 2;
    }
}

var config = new AdminClientConfig();
config.Set("test.mock.num.brokers", brokers.ToString(CultureInfo.InvariantCulture));
using var admin = new AdminClientBuilder(config).Build();

// The mock cluster exists as long as this client does; its metadata names the brokers' loopback addresses.
var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
var bootstrap = string.Join(',', metadata.Brokers.Select(b => $"{b.Host}:{b.Port}"));
Console.WriteLine($"KEFU_KAFKA={bootstrap}");
Console.Out.Flush();

using var stop = new ManualResetEventSlim();
using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Set(); });
stop.Wait();
return 0;
