using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Grains.Streaming.Kafka;
using IntegrationProto = Kefu.Contracts.Integration;

namespace Kefu.Grains.Inbound.Kafka;

/// <summary>
/// One <c>customer_events</c> record → the inbound event, checked by <see cref="InboundParser"/> exactly as the HTTP body is:
/// the value is the §3 body as JSON (header <c>content-type</c> absent or <c>application/json</c>) or its protobuf twin
/// (<c>application/protobuf</c>); header <c>kefu-timeout-ms</c> is the sender's deadline, as <c>Kefu-Timeout-Ms</c> on HTTP.
/// What cannot be read gets the error the dead-letter headers carry.
/// </summary>
public static class CustomerEventReader
{
    public const string ContentTypeHeader = "content-type";
    public const string TimeoutHeader = "kefu-timeout-ms";
    public const string Json = "application/json";
    public const string Protobuf = "application/protobuf";

    public const string InvalidJson = "invalid_json";
    public const string InvalidProtobuf = "invalid_protobuf";
    public const string UnsupportedMediaType = "unsupported_media_type";
    public const string PayloadTooLarge = "payload_too_large";

    /// <summary>At most a day, as on HTTP: a deadline is for a route's calls, not a schedule.</summary>
    public const int MaxTimeoutMs = 86_400_000;

    public static (InboundEvent? Event, KefuError? Error) Read(KafkaRawRecord record, int maxBodyBytes)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.Value.Length > maxBodyBytes)
        {
            return (null, new KefuError(PayloadTooLarge, $"The value is larger than {maxBodyBytes} bytes."));
        }

        var (timeout, timeoutError) = ReadTimeout(record.Header(TimeoutHeader));
        if (timeoutError is not null)
        {
            return (null, timeoutError);
        }

        var (inbound, error) = MediaType(record.Header(ContentTypeHeader)) switch
        {
            null or Json => ReadJson(record.Value),
            Protobuf or "application/x-protobuf" => ReadProtobuf(record.Value),
            var other => (null, new KefuError(UnsupportedMediaType, $"content-type {other} is not {Json} or {Protobuf}.")),
        };
        return inbound is null ? (null, error) : (inbound with { Timeout = timeout }, null);
    }

    private static (InboundEvent?, KefuError?) ReadJson(byte[] value)
    {
        try
        {
            using var document = JsonDocument.Parse(value);
            // The same parse as POST /api/v1/webhook with a key for every inbox (Kafka ACLs are the boundary).
            return InboundParser.Parse(document.RootElement, allowedInboxes: null);
        }
        catch (JsonException e)
        {
            return (null, new KefuError(InvalidJson, $"The value is not JSON: {e.Message}"));
        }
    }

    private static (InboundEvent?, KefuError?) ReadProtobuf(byte[] value)
    {
        IntegrationProto.InboundEvent body;
        try
        {
            body = IntegrationProto.InboundEvent.Parser.ParseFrom(value);
        }
        catch (InvalidProtocolBufferException e)
        {
            return (null, new KefuError(InvalidProtobuf, $"The value is not a kefu.integration.v1.InboundEvent: {e.Message}"));
        }

        return InboundParser.Parse(body, allowedInboxes: null);
    }

    /// <summary>The media type without parameters (<c>application/json; charset=utf-8</c> → <c>application/json</c>), lower case.</summary>
    private static string? MediaType(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType))
        {
            return null;
        }

        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        return (semicolon >= 0 ? contentType[..semicolon] : contentType).Trim().ToLowerInvariant();
    }

    private static (TimeSpan?, KefuError?) ReadTimeout(string? header)
    {
        if (header is null)
        {
            return (null, null);
        }

        return int.TryParse(header, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms is > 0 and <= MaxTimeoutMs
            ? (TimeSpan.FromMilliseconds(ms), null)
            : (null, KefuError.Invalid($"{TimeoutHeader} must be a whole number of milliseconds from 1 to {MaxTimeoutMs}."));
    }
}
