using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Kefu.Grains.Tests.Crm;

/// <summary>One request as the fake CRM saw it; <see cref="Aborted"/>: the caller gave up before the answer.</summary>
public sealed record CrmRequest(string Method, string Path, string Body, string? Authorization, string? IdempotencyKey, DateTimeOffset At)
{
    public volatile bool Aborted;

    public bool IsWrite => Method != "GET";
}

/// <summary>A scripted fault: answer this status (with Retry-After), stall, apply then cut the connection, or corrupt a read.</summary>
public sealed record CrmFault(int? Status = null, int? RetryAfterSeconds = null, TimeSpan? Delay = null, bool ApplyThenReset = false, (string Field, string Value)? Corrupt = null);

/// <summary>
/// A CRM on a loopback Kestrel port: <c>PUT|PATCH|POST /{tenant}/{collection}/{id}</c> upserts (the body's members
/// replace the stored ones; <c>updatedAt</c> set), <c>GET</c> reads (404 when missing). Each test uses its own first path
/// segment with its own records, script and request log. A script returns a fault for a request (by its number among
/// that test's requests of the same kind), or null to behave.
/// </summary>
public sealed class FakeCrm : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, Tenant> _tenants = new(StringComparer.Ordinal);

    private FakeCrm(WebApplication app) => _app = app;

    public Uri BaseUrl => new(_app.Urls.First());

    public static async Task<FakeCrm> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var crm = new FakeCrm(app);
        app.Run(crm.HandleAsync);
        await app.StartAsync();
        return crm;
    }

    public Tenant For(string name) => _tenants.GetOrAdd(name, _ => new Tenant());

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        var request = new CrmRequest(context.Request.Method, path + context.Request.QueryString, body, context.Request.Headers.Authorization.FirstOrDefault(),
            context.Request.Headers["Idempotency-Key"].FirstOrDefault(), DateTimeOffset.UtcNow);
        if (parts.Length < 3 || !_tenants.TryGetValue(parts[0], out var tenant))
        {
            context.Response.StatusCode = 404;
            return;
        }

        tenant.Requests.Enqueue(request);
        var key = parts[1] + "/" + string.Join('/', parts[2..]);
        var fault = tenant.Script?.Invoke(request, request.IsWrite ? Interlocked.Increment(ref tenant.Writes) : Interlocked.Increment(ref tenant.Reads));
        if (fault?.Delay is { } delay)
        {
            try
            {
                await Task.Delay(delay, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                request.Aborted = true;
                return;
            }
        }

        if (fault?.Status is { } status)
        {
            context.Response.StatusCode = status;
            if (fault.RetryAfterSeconds is { } seconds)
            {
                context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            await context.Response.WriteAsync("""{"error":"scripted"}""");
            return;
        }

        if (request.IsWrite)
        {
            var incoming = JsonNode.Parse(body) as JsonObject ?? [];
            var record = tenant.Records.AddOrUpdate(key, _ => Merge([], incoming), (_, existing) => Merge(existing, incoming));
            if (fault?.ApplyThenReset == true)
            {
                context.Abort(); // applied, but the caller never hears so
                return;
            }

            await Json(context, 200, record);
            return;
        }

        if (!tenant.Records.TryGetValue(key, out var stored))
        {
            context.Response.StatusCode = 404;
            return;
        }

        var copy = (JsonObject)stored.DeepClone();
        if (fault?.Corrupt is { } corrupt)
        {
            copy[corrupt.Field] = corrupt.Value;
        }

        await Json(context, 200, copy);
    }

    private static JsonObject Merge(JsonObject existing, JsonObject incoming)
    {
        var merged = (JsonObject)existing.DeepClone();
        foreach (var (name, value) in incoming)
        {
            merged[name] = value?.DeepClone();
        }

        merged["updatedAt"] = DateTimeOffset.UtcNow.ToString("O");
        return merged;
    }

    private static async Task Json(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString());
    }

    public sealed class Tenant
    {
        internal int Writes;
        internal int Reads;

        public ConcurrentDictionary<string, JsonObject> Records { get; } = new(StringComparer.Ordinal);

        public ConcurrentQueue<CrmRequest> Requests { get; } = new();

        /// <summary>(request, its number among this tenant's writes or reads: 1, 2, …) → a fault, or null.</summary>
        public Func<CrmRequest, int, CrmFault?>? Script { get; set; }

        public IReadOnlyList<CrmRequest> WritesSeen => [.. Requests.Where(r => r.IsWrite)];

        /// <summary>A change made in the CRM by someone else (a sales rep).</summary>
        public void EditInCrm(string key, string field, string value, DateTimeOffset? at = null)
        {
            var record = Records[key];
            record[field] = value;
            record["updatedAt"] = (at ?? DateTimeOffset.UtcNow).ToString("O");
        }
    }
}
