using System.Diagnostics;
using Confluent.Kafka;
using Kefu.Cluster.Tests.Infrastructure;

namespace Kefu.Cluster.Tests;

/// <summary>
/// scripts/kafka.sh (issue #16): the mock cluster it starts takes idempotent, acks=all writes and serves them back in
/// order per partition, like the real thing for our purposes; stop ends its process by PID.
/// </summary>
public sealed class KafkaScriptTests
{
    [Fact]
    public async Task The_script_starts_a_cluster_that_round_trips_messages_and_stops_it_by_pid()
    {
        var kafka = await KafkaServer.StartAsync();
        var pid = kafka.Pid;
        try
        {
            const string topic = "kefu_script_check";
            using (var producer = new ProducerBuilder<string, string>(new ProducerConfig
            {
                BootstrapServers = kafka.Bootstrap,
                Acks = Acks.All,
                EnableIdempotence = true,
            }).Build())
            {
                for (var i = 0; i < 20; i++)
                {
                    await producer.ProduceAsync(topic, new Message<string, string> { Key = $"conversation-{i % 3}", Value = $"event {i}" });
                }
            }

            using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
            {
                BootstrapServers = kafka.Bootstrap,
                GroupId = "kefu-script-check",
                EnableAutoCommit = false,
            }).Build();
            var partitions = Enumerable.Range(0, 4).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)).ToList();
            consumer.Assign(partitions);
            var received = new List<(string Key, string Value)>();
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (received.Count < 20 && DateTime.UtcNow < deadline)
            {
                if (consumer.Consume(TimeSpan.FromMilliseconds(500)) is { IsPartitionEOF: false } result)
                {
                    received.Add((result.Message.Key, result.Message.Value));
                }
            }

            Assert.Equal(20, received.Count);
            foreach (var group in received.GroupBy(r => r.Key))
            {
                // One key, one partition: its events come back in the order they were written.
                var numbers = group.Select(r => int.Parse(r.Value["event ".Length..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
                Assert.Equal(numbers.Order(), numbers);
            }
        }
        finally
        {
            await kafka.DisposeAsync();
        }

        Assert.Throws<ArgumentException>(() => Process.GetProcessById(pid));
    }
}
