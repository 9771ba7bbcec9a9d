using YamlDotNet.RepresentationModel;

namespace Kefu.Gateway.Tests;

/// <summary>The compose file's Kafka (issue #16): a real broker in KRaft mode, its topics, and Kefu pointed at it.</summary>
public sealed partial class DeployTests
{
    [Fact]
    public void Kafka_runs_in_KRaft_mode_with_a_health_check_and_a_data_volume()
    {
        var kafka = Mapping(Services, "kafka");
        Assert.StartsWith("apache/kafka:", Scalar(kafka, "image"), StringComparison.Ordinal);
        var environment = EnvironmentOf(kafka);
        Assert.Equal("broker,controller", environment["KAFKA_PROCESS_ROLES"]);
        Assert.Contains("CONTROLLER", environment["KAFKA_CONTROLLER_LISTENER_NAMES"], StringComparison.Ordinal);
        Assert.DoesNotContain(environment.Keys, k => k.Contains("ZOOKEEPER", StringComparison.Ordinal));
        Assert.Equal("PLAINTEXT://kafka:9092", environment["KAFKA_ADVERTISED_LISTENERS"]);
        Assert.Contains(Sequence(kafka, "volumes").OfType<YamlScalarNode>(), v => v.Value!.EndsWith(":" + environment["KAFKA_LOG_DIRS"], StringComparison.Ordinal));
        Assert.NotEmpty(Sequence(Mapping(kafka, "healthcheck"), "test"));
        Assert.NotNull(Optional(Mapping(_compose, "volumes"), "kafka-data"));
    }

    [Fact]
    public void Kefu_topics_are_created_before_the_silos_start_and_every_silo_and_gateway_is_pointed_at_the_broker()
    {
        var topics = Mapping(Services, "kafka-topics");
        Assert.Equal("service_healthy", Scalar(Mapping(Mapping(topics, "depends_on"), "kafka"), "condition"));
        var script = string.Join(' ', Scalars(Sequence(topics, "command")));
        Assert.Contains("--topic conversation_events", script, StringComparison.Ordinal);
        // The streams topic must have exactly Kefu:Kafka:Streams:Partitions partitions (default 4).
        Assert.Contains("--topic kefu_streams --partitions 4", script, StringComparison.Ordinal);

        foreach (var silo in Silos)
        {
            Assert.Equal("service_completed_successfully", Scalar(Mapping(Mapping(Mapping(Services, silo), "depends_on"), "kafka-topics"), "condition"));
        }

        foreach (var name in Silos.Concat(Gateways))
        {
            Assert.Equal("kafka:9092", EnvironmentOf(Mapping(Services, name)).GetValueOrDefault("Kefu__Kafka__BootstrapServers"));
        }
    }
}
