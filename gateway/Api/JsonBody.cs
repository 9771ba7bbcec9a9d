using System.Buffers;
using System.Text.Json;
using Kefu.Contracts.Messages;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kefu.Gateway.Api;

/// <summary>
/// Reading an integration call's JSON body by hand, so every bad input gets its own stable code: a body over the limit
/// → 413 <c>payload_too_large</c> (without reading more than the limit), malformed JSON or not an object → 400
/// <c>invalid_json</c>. Field checks (<see cref="Text"/>) answer <c>missing_field</c> / <c>invalid_field</c>.
/// </summary>
public static class JsonBody
{
    public const string InvalidJson = "invalid_json";
    public const string PayloadTooLarge = "payload_too_large";

    /// <summary>The body's bytes, or the problem to answer.</summary>
    public static async Task<(byte[]? Body, ProblemHttpResult? Problem)> ReadAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            return (null, TooLarge(maxBytes));
        }

        var buffer = new ArrayBufferWriter<byte>(request.ContentLength is { } length ? (int)Math.Max(length, 1) : 4096);
        while (true)
        {
            var memory = buffer.GetMemory(4096);
            var read = await request.Body.ReadAsync(memory, cancellationToken);
            if (read == 0)
            {
                break;
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > maxBytes)
            {
                // A chunked body gives no length up front: stop at the limit instead of buffering whatever is sent.
                return (null, TooLarge(maxBytes));
            }
        }

        return (buffer.WrittenSpan.ToArray(), null);
    }

    /// <summary>The body as a JSON object, or the problem to answer.</summary>
    public static (JsonDocument? Document, ProblemHttpResult? Problem) ParseObject(byte[] body)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            return (null, Problems.Create(StatusCodes.Status400BadRequest, InvalidJson, "The body is not valid JSON."));
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            return (null, Problems.Create(StatusCodes.Status400BadRequest, InvalidJson, "The body must be a JSON object."));
        }

        return (document, null);
    }

    /// <summary>
    /// A string member of 1 to <paramref name="maxLength"/> characters: (value, null); absent (or null) and optional:
    /// (null, null); otherwise the problem.
    /// </summary>
    public static (string? Value, ProblemHttpResult? Problem) Text(JsonElement parent, string name, int maxLength, bool required, string? path = null)
    {
        var label = path ?? name;
        if (!parent.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return required
                ? (null, Problems.Create(StatusCodes.Status400BadRequest, ErrorCodes.MissingField, $"{label} is required."))
                : (null, null);
        }

        if (element.ValueKind != JsonValueKind.String || element.GetString() is not { Length: > 0 } value || value.Length > maxLength)
        {
            return (null, Problems.Invalid($"{label} must be a string of 1 to {maxLength} characters."));
        }

        return (value, null);
    }

    /// <summary>The element as compact JSON (whitespace does not matter to a hash or to a reader).</summary>
    public static byte[] Compact(JsonElement element)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            element.WriteTo(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static ProblemHttpResult TooLarge(int maxBytes) =>
        Problems.Create(StatusCodes.Status413PayloadTooLarge, PayloadTooLarge, $"The body is larger than {maxBytes} bytes.");
}
