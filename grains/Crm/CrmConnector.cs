using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Kefu.Grains.Crm;

/// <summary>How one request to the CRM ended.</summary>
public enum CrmCallOutcome
{
    /// <summary>2xx (the body, if JSON, is in <see cref="CrmResponse.Body"/>).</summary>
    Ok,

    /// <summary>404 on a read: the CRM does not have the record.</summary>
    NotFound,

    /// <summary>408, 429, 5xx, a timeout, a network error or an open circuit: try again later.</summary>
    Retryable,

    /// <summary>Any other 4xx, or a configuration problem: trying again will not help.</summary>
    Permanent,
}

public sealed record CrmResponse(CrmCallOutcome Outcome, int? Status, JsonElement? Body, TimeSpan? RetryAfter, string? Error);

/// <summary>One CRM operation to call: which CRM, which record's operation, the Kefu id for <c>{id}</c>.</summary>
public sealed record CrmCall(string Tenant, string CrmName, CrmConnectorOptions Crm, CrmOperationOptions Operation, string RecordId, byte[]? Body, string? IdempotencyKey);

/// <summary>
/// Calls a CRM (docs/crm.md "Connectors"): the operation's method and path (<c>{id}</c> = the record's Kefu id), a JSON
/// body, the auth header from configuration and an <c>Idempotency-Key</c>. Each request gets the CRM's step timeout, and
/// all of one tenant's requests to one CRM go through one Polly circuit breaker: a CRM that keeps failing is left alone
/// for a while (its records wait and retry later) instead of being hammered by every record at once.
/// </summary>
public sealed class CrmConnector(IHttpClientFactory clients, IOptionsMonitor<CrmOptions> options, TimeProvider time)
{
    public const string ClientName = "kefu-crm";

    private readonly ConcurrentDictionary<(string Tenant, string Crm), ResiliencePipeline<HttpResponseMessage>> _pipelines = new();
    private readonly ConcurrentDictionary<(string Tenant, string Crm), CrmThrottle> _throttles = new();

    /// <summary>The throttle of one tenant's CRM on this silo (for diagnostics and tests).</summary>
    public CrmThrottle ThrottleOf(string tenant, string crmName, CrmConnectorOptions crm) =>
        _throttles.GetOrAdd((tenant, crmName), _ => new CrmThrottle(crm, time));

    public async Task<CrmResponse> CallAsync(CrmCall call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        string? auth = null;
        if (call.Crm.Auth is { } spec)
        {
            if (!options.CurrentValue.Secrets.TryGetValue(spec.SecretRef, out var secret) || string.IsNullOrEmpty(secret))
            {
                return new CrmResponse(CrmCallOutcome.Permanent, null, null, null, $"secret {spec.SecretRef} is not configured ({CrmOptions.Section}:Secrets:{spec.SecretRef})");
            }

            auth = (spec.Prefix ?? string.Empty) + secret;
        }

        var url = new Uri(call.Crm.BaseUrl.TrimEnd('/') + "/" + call.Operation.Path.Replace("{id}", Uri.EscapeDataString(call.RecordId), StringComparison.Ordinal).TrimStart('/'));
        var method = new HttpMethod((call.Operation.Method ?? (call.Body is null ? "GET" : "PUT")).ToUpperInvariant());
        var pipeline = _pipelines.GetOrAdd((call.Tenant, call.CrmName), _ => Build(call.Crm));
        var throttle = ThrottleOf(call.Tenant, call.CrmName, call.Crm);
        if (!await throttle.WaitTurnAsync(cancellationToken).ConfigureAwait(false))
        {
            return new CrmResponse(CrmCallOutcome.Retryable, null, null, TimeSpan.FromSeconds(1), "too many requests waiting for the CRM's rate limit");
        }

        var http = clients.CreateClient(ClientName);
        try
        {
            using var response = await pipeline.ExecuteAsync(
                async token =>
                {
                    using var request = new HttpRequestMessage(method, url);
                    if (call.Body is { } body && method != HttpMethod.Get)
                    {
                        request.Content = new ByteArrayContent(body);
                        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                    }

                    if (call.IdempotencyKey is { } key)
                    {
                        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
                    }

                    request.Headers.TryAddWithoutValidation("Kefu-Timeout-Ms", ((long)call.Crm.StepTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture));
                    if (auth is not null)
                    {
                        request.Headers.TryAddWithoutValidation(call.Crm.Auth!.Header, auth);
                    }

                    return await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, token).ConfigureAwait(false);
                },
                cancellationToken).ConfigureAwait(false);
            var answer = await ReadAsync(response, method, cancellationToken).ConfigureAwait(false);
            throttle.Answered((int)response.StatusCode, answer.RetryAfter);
            return answer;
        }
        catch (BrokenCircuitException ex)
        {
            return new CrmResponse(CrmCallOutcome.Retryable, null, null, ex.RetryAfter ?? call.Crm.CircuitBreaker.BreakDuration, "the CRM's circuit is open (too many failures)");
        }
        catch (TimeoutRejectedException)
        {
            return new CrmResponse(CrmCallOutcome.Retryable, null, null, null, $"no answer within {call.Crm.StepTimeout.TotalMilliseconds:0} ms");
        }
        catch (HttpRequestException ex)
        {
            return new CrmResponse(CrmCallOutcome.Retryable, null, null, null, "network error: " + ex.Message);
        }
    }

    private async Task<CrmResponse> ReadAsync(HttpResponseMessage response, HttpMethod method, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        var retryAfter = RetryAfter(response);
        if (response.IsSuccessStatusCode)
        {
            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            JsonElement? body = null;
            if (bytes.Length > 0)
            {
                try
                {
                    using var document = JsonDocument.Parse(bytes);
                    body = document.RootElement.Clone();
                }
                catch (JsonException)
                {
                    if (method == HttpMethod.Get)
                    {
                        // A read-back that is not JSON cannot be verified: like a wrong value, it is retried.
                        return new CrmResponse(CrmCallOutcome.Retryable, status, null, retryAfter, "the read-back is not JSON");
                    }
                }
            }

            return new CrmResponse(CrmCallOutcome.Ok, status, body, retryAfter, null);
        }

        var excerpt = await Excerpt(response, cancellationToken).ConfigureAwait(false);
        return status switch
        {
            404 when method == HttpMethod.Get => new CrmResponse(CrmCallOutcome.NotFound, status, null, null, null),
            408 or 429 or >= 500 => new CrmResponse(CrmCallOutcome.Retryable, status, null, retryAfter, $"HTTP {status}: {excerpt}"),
            _ => new CrmResponse(CrmCallOutcome.Permanent, status, null, null, $"HTTP {status}: {excerpt}"),
        };
    }

    private ResiliencePipeline<HttpResponseMessage> Build(CrmConnectorOptions crm) =>
        new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                FailureRatio = crm.CircuitBreaker.FailureRatio,
                MinimumThroughput = Math.Max(2, crm.CircuitBreaker.MinimumThroughput),
                SamplingDuration = crm.CircuitBreaker.SamplingDuration,
                BreakDuration = crm.CircuitBreaker.BreakDuration,
                ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                    .Handle<HttpRequestException>()
                    .Handle<TimeoutRejectedException>()
                    .HandleResult(r => (int)r.StatusCode is 408 or 429 or >= 500),
            })
            .AddTimeout(crm.StepTimeout)
            .Build();

    /// <summary><c>Retry-After</c> as seconds or an HTTP date, at most a day.</summary>
    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        var after = header?.Delta ?? (header?.Date is { } date ? date - time.GetUtcNow() : null);
        return after is { } a ? TimeSpan.FromTicks(Math.Clamp(a.Ticks, 0, TimeSpan.TicksPerDay)) : null;
    }

    private static async Task<string> Excerpt(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        return text.Length <= 200 ? text : text[..200];
    }

}
