using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Kefu.Gateway.Tests.Webhooks;

/// <summary>What the receiver answers to one request: a status (with an optional Retry-After), or no answer for a while.</summary>
public sealed record ReceiverAnswer(int Status, int? RetryAfterSeconds = null, TimeSpan? Delay = null, string? Body = null)
{
    public static readonly ReceiverAnswer Ok = new(200, Body: "ok");
}

/// <summary>One request as the receiver saw it, with its own verdict on the signature.</summary>
public sealed record ReceivedWebhook(string Id, long Timestamp, string Signature, string Body, bool SignatureValid, int Attempt, int Answered, DateTimeOffset At, string? Traceparent = null)
{
    public JsonElement Envelope => JsonDocument.Parse(Body).RootElement.Clone();
}

/// <summary>
/// A webhook receiver on a loopback Kestrel port, as a business would write one: it verifies the Standard Webhooks
/// signature with its own HMAC code (not Kefu's <c>WebhookSignature</c>) and answers by a script given the webhook-id and
/// the attempt number (1 for the first request with that id).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _attempts = new(StringComparer.Ordinal);

    private WebhookReceiver(WebApplication app) => _app = app;

    public ConcurrentQueue<ReceivedWebhook> Received { get; } = new();

    /// <summary>The secrets the receiver accepts (set after the endpoint is created).</summary>
    public string[] Secrets { get; set; } = [];

    public Func<string, int, ReceiverAnswer> Script { get; set; } = (_, _) => ReceiverAnswer.Ok;

    public string Url => _app.Urls.First() + "/hooks/kefu?token=receiver-own-token";

    /// <summary>The ids answered with a 2xx (each counted once: repeats are what webhook-id deduplication drops).</summary>
    public HashSet<string> Delivered => [.. Received.Where(r => r.Answered is >= 200 and < 300).Select(r => r.Id)];

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/hooks/kefu", receiver.HandleAsync);
        await app.StartAsync();
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        var id = context.Request.Headers["webhook-id"].ToString();
        var timestampText = context.Request.Headers["webhook-timestamp"].ToString();
        var signature = context.Request.Headers["webhook-signature"].ToString();
        var timestamp = long.TryParse(timestampText, NumberStyles.None, CultureInfo.InvariantCulture, out var t) ? t : -1;
        var valid = context.Request.ContentType == "application/json" && timestamp > 0 && Secrets.Any(s => Verifies(s, id, timestampText, body, signature))
            && Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - timestamp) <= 300;
        var attempt = _attempts.AddOrUpdate(id, 1, (_, n) => n + 1);
        var answer = Script(id, attempt);
        if (answer.Delay is { } delay)
        {
            try
            {
                await Task.Delay(delay, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                // Kefu gave up waiting (its timeout): that was the point.
            }
        }

        Received.Enqueue(new ReceivedWebhook(id, timestamp, signature, body, valid, attempt, answer.Delay is null ? answer.Status : 0, DateTimeOffset.UtcNow,
            context.Request.Headers.TryGetValue("traceparent", out var traceparent) ? traceparent.ToString() : null));
        if (context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        context.Response.StatusCode = answer.Status;
        if (answer.RetryAfterSeconds is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }

        if (answer.Body is { } text)
        {
            await context.Response.WriteAsync(text);
        }
    }

    /// <summary>The receiver's own check: HMAC-SHA256 over "id.timestamp.body" with the base64 key after whsec_, any of the space-separated v1 signatures.</summary>
    public static bool Verifies(string secret, string id, string timestamp, string body, string header)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}")));
        return header.Split(' ').Any(candidate => CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(candidate), Encoding.UTF8.GetBytes(expected)));
    }
}
