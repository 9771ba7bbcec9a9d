using System.Text;
using Google.Protobuf;
using Kefu.Contracts.Messages;
using Kefu.Grains.Inbound.Kafka;
using Kefu.Grains.Streaming.Kafka;
using IntegrationProto = Kefu.Contracts.Integration;

namespace Kefu.Grains.Tests.Inbound;

/// <summary>customer_events without a cluster: reading a record, the dead-letter headers, and when a failure dead-letters.</summary>
public sealed class CustomerEventUnitTests
{
    private const int MaxBytes = 1024;

    [Fact]
    public void The_same_event_as_json_and_as_protobuf_is_the_same_body()
    {
        var json = Record("""{"id":"e-1","type":"order_status","contact":{"externalId":"u-42","name":"Ann"},"data":{"order_id":"1"}}""", "application/json; charset=utf-8");
        var proto = Record(new IntegrationProto.InboundEvent
        {
            Id = "e-1", Type = "order_status", Contact = new IntegrationProto.InboundContact { ExternalId = "u-42", Name = "Ann" }, DataJson = """{"order_id":"1"}""",
        }.ToByteArray(), "application/protobuf");
        var noHeader = Record("""{ "type":"order_status", "id":"e-1", "data":{"order_id":"1"}, "contact":{"name":"Ann","externalId":"u-42"} }""", null);

        var (fromJson, _) = CustomerEventReader.Read(json, MaxBytes);
        var (fromProto, _) = CustomerEventReader.Read(proto, MaxBytes);
        var (fromPlain, _) = CustomerEventReader.Read(noHeader, MaxBytes);

        Assert.NotNull(fromJson);
        Assert.Equal(fromJson.BodyHash, fromProto!.BodyHash);
        Assert.Equal(fromJson.BodyHash, fromPlain!.BodyHash);
        Assert.Equal(("e-1", "u-42", "Ann"), (fromProto.SourceId, fromProto.ExternalId, fromProto.Name));
        Assert.Null(fromJson.Timeout);
    }

    [Theory]
    [InlineData("not json", null, CustomerEventReader.InvalidJson)]
    [InlineData("[1]", "application/json", ErrorCodes.InvalidField)]
    [InlineData("""{"type":"t"}""", null, ErrorCodes.MissingField)]
    [InlineData("""{"id":"a","type":"t"}""", "text/plain", CustomerEventReader.UnsupportedMediaType)]
    [InlineData("\u000a\u00ff", "application/protobuf", CustomerEventReader.InvalidProtobuf)]
    public void Bad_values_get_the_error_their_dead_letter_carries(string value, string? contentType, string code)
    {
        var (inbound, error) = CustomerEventReader.Read(Record(Encoding.Latin1.GetBytes(value), contentType), MaxBytes);
        Assert.Null(inbound);
        Assert.Equal(code, error?.Code);
    }

    [Fact]
    public void The_deadline_header_and_the_size_limit_apply_as_on_http()
    {
        var body = """{"id":"a","type":"t"}""";
        Assert.Equal(TimeSpan.FromMilliseconds(250), CustomerEventReader.Read(Record(body, null, (CustomerEventReader.TimeoutHeader, "250")), MaxBytes).Event?.Timeout);
        Assert.Equal(ErrorCodes.InvalidField, CustomerEventReader.Read(Record(body, null, (CustomerEventReader.TimeoutHeader, "0")), MaxBytes).Error?.Code);
        Assert.Equal(ErrorCodes.InvalidField, CustomerEventReader.Read(Record(body, null, (CustomerEventReader.TimeoutHeader, "1e3")), MaxBytes).Error?.Code);
        Assert.Equal(CustomerEventReader.PayloadTooLarge, CustomerEventReader.Read(Record(body, null), maxBodyBytes: 10).Error?.Code);
    }

    [Fact]
    public void Dead_letter_headers_keep_the_record_s_own_and_replace_older_error_headers()
    {
        var record = Record("x", "application/json", ("trace-id", "t1"), (DeadLetterHeaders.ErrorCode, "old"), (DeadLetterHeaders.Attempts, "9"));
        var at = new DateTimeOffset(2026, 12, 7, 6, 0, 0, TimeSpan.Zero);

        var headers = DeadLetterHeaders.For(record, new KefuError("not_found", new string('m', 5000)), attempts: 5, at);

        string Value(string key) => Encoding.UTF8.GetString(Assert.Single(headers, h => h.Key == key).GetValueBytes());
        Assert.Equal("t1", Value("trace-id"));
        Assert.Equal("application/json", Value("content-type"));
        Assert.Equal("not_found", Value(DeadLetterHeaders.ErrorCode));
        Assert.Equal(DeadLetterHeaders.MaxMessageLength, Value(DeadLetterHeaders.ErrorMessage).Length);
        Assert.Equal(("customer_events", "2", "17", "5"), (Value(DeadLetterHeaders.OriginalTopic), Value(DeadLetterHeaders.OriginalPartition),
            Value(DeadLetterHeaders.OriginalOffset), Value(DeadLetterHeaders.Attempts)));
        Assert.Equal("2026-12-07T06:00:00.0000000Z", Value(DeadLetterHeaders.FailedAt));
    }

    [Fact]
    public void A_refusal_is_dead_lettered_and_a_transient_failure_only_after_retrying_for_its_time()
    {
        var options = new CustomerEventsOptions { MaxAttempts = 5, TransientRetryFor = TimeSpan.FromMinutes(10) };
        var failures = new CustomerEventFailures(options);
        var record = Record("x", null);
        var start = new DateTimeOffset(2026, 12, 7, 6, 0, 0, TimeSpan.Zero);
        var outage = new TimeoutException("database away");

        Assert.Equal(("not_found", 5), Code(failures.Failed(record, KefuError.NotFound("Conversation"), null, 5, start)));

        // Transient: delivered again, counting, until ten minutes have passed since its first failure.
        Assert.Equal((null, 5), Code(failures.Failed(record, null, outage, 5, start)));
        Assert.Equal((null, 10), Code(failures.Failed(record, new KefuError(ErrorCodes.Unavailable, "later"), null, 5, start.AddMinutes(9))));
        var (letter, attempts) = failures.Failed(record, null, outage, 5, start.AddMinutes(10));
        Assert.Equal((ErrorCodes.Unavailable, 15), (letter?.Code, attempts));
        Assert.Contains("database away", letter!.Message, StringComparison.Ordinal);

        // Another record has its own count; success forgets a record's failures.
        var other = record with { Offset = 18 };
        Assert.Equal((null, 5), Code(failures.Failed(other, null, outage, 5, start.AddMinutes(11))));
        Assert.Equal((null, 5), Code(failures.Failed(record, null, outage, 5, start.AddMinutes(11))));
        Assert.Equal((null, 10), Code(failures.Failed(other, null, outage, 5, start.AddMinutes(12))));
        failures.Succeeded(other);
        Assert.Equal((null, 5), Code(failures.Failed(other, null, outage, 5, start.AddMinutes(30))));
    }

    private static (string? Code, int Attempts) Code((KefuError? DeadLetter, int Attempts) decision) => (decision.DeadLetter?.Code, decision.Attempts);

    private static KafkaRawRecord Record(string value, string? contentType, params (string Key, string Value)[] headers) =>
        Record(Encoding.UTF8.GetBytes(value), contentType, headers);

    private static KafkaRawRecord Record(byte[] value, string? contentType, params (string Key, string Value)[] headers) => new(
        "customer_events", 2, 17, Encoding.UTF8.GetBytes("k"), value,
        [.. contentType is null ? [] : new[] { new KafkaRecordHeader("content-type", Encoding.UTF8.GetBytes(contentType)) },
            .. headers.Select(h => new KafkaRecordHeader(h.Key, Encoding.UTF8.GetBytes(h.Value)))],
        null);
}
