using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Kefu.Contracts.Events;
using Kefu.Contracts.Webhooks;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Webhooks;

/// <summary>What one POST to an endpoint came to.</summary>
public sealed record WebhookAttemptResult(int? Status, int LatencyMs, string? Excerpt, string? Error, TimeSpan? RetryAfter)
{
    public bool Succeeded => Status is >= 200 and < 300;

    /// <summary>410 Gone: the receiver asks to be disabled.</summary>
    public bool Gone => Status == (int)HttpStatusCode.Gone;
}

/// <summary>
/// Sends one signed delivery (Standard Webhooks v1 headers, INTEGRATION.md §5). One <see cref="HttpClient"/> per silo
/// over a <see cref="SocketsHttpHandler"/> that recycles pooled connections (DNS changes are seen) and connects only
/// through the SSRF guard; redirects are not followed and no proxy, cookie or credential is ever sent.
/// </summary>
public sealed class WebhookSender : IDisposable
{
    private readonly HttpClient _http;
    private readonly WebhookOptions _options;
    private readonly TimeProvider _time;

    public WebhookSender(IOptions<WebhookOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _time = time;
        var allowPrivate = _options.AllowPrivateTargets;
        _http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = _options.Timeout,
            ConnectCallback = (context, ct) => WebhookTargets.ConnectAsync(context, allowPrivate, ct),
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("Kefu-Webhooks/1");
    }

    /// <summary>The envelope (INTEGRATION.md §2) as the exact bytes that are signed and sent.</summary>
    public static byte[] Body(StoredEvent e)
    {
        var buffer = new ArrayBufferWriter<byte>(512 + e.DataJson.Length);
        using (var json = new Utf8JsonWriter(buffer))
        {
            EventJson.WriteEnvelope(json, e);
        }

        return buffer.WrittenSpan.ToArray();
    }

    public async Task<WebhookAttemptResult> SendAsync(string url, IReadOnlyList<string> secrets, StoredEvent e, CancellationToken cancellationToken)
    {
        var body = Body(e);
        var id = e.Id.ToString();
        using var delivery = Telemetry.KefuTraces.StartDelivery("webhook deliver", e.Type, id); // a trace of its own (docs/operations.md)
        var timestamp = _time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.TryAddWithoutValidation(WebhookSignature.IdHeader, id);
        request.Headers.TryAddWithoutValidation(WebhookSignature.TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation(WebhookSignature.SignatureHeader, WebhookSignature.SignAll(secrets, id, timestamp, body));

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.Timeout);
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            var excerpt = await ExcerptAsync(response, timeout.Token).ConfigureAwait(false);
            return new WebhookAttemptResult((int)response.StatusCode, Elapsed(started), excerpt, null,
                WebhookRules.RetryAfter(response.Headers.RetryAfter, _time.GetUtcNow()));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new WebhookAttemptResult(null, Elapsed(started), null, $"no answer within {_options.Timeout.TotalSeconds:0.###} s", null);
        }
        catch (HttpRequestException ex)
        {
            return new WebhookAttemptResult(null, Elapsed(started), null, Describe(ex), null);
        }
    }

    public void Dispose() => _http.Dispose();

    private static int Elapsed(long started) => (int)Math.Min(int.MaxValue, Stopwatch.GetElapsedTime(started).TotalMilliseconds);

    /// <summary>The start of the answer's body, read no further than needed (a receiver may answer with anything).</summary>
    private async Task<string?> ExcerptAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var limit = _options.ResponseExcerptLength;
        if (limit <= 0)
        {
            return null;
        }

        var buffer = new byte[limit * 4];
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var read = 0;
        int n;
        while (read < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken).ConfigureAwait(false)) > 0)
        {
            read += n;
        }

        if (read == 0)
        {
            return null;
        }

        var text = Encoding.UTF8.GetString(buffer, 0, read);
        return text.Length > limit ? text[..limit] : text;
    }

    /// <summary>The failure without the URL's query (it may carry a receiver's token).</summary>
    private static string Describe(HttpRequestException ex) => ex switch
    {
        PrivateTargetException => ex.Message,
        { HttpRequestError: var error } when error != HttpRequestError.Unknown => $"{error}: {ex.InnerException?.Message ?? ex.Message}",
        _ => ex.InnerException?.Message ?? ex.Message,
    };
}
