using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace Kefu.Grains.Routing.Runtime;

/// <summary>What one <c>call</c> step came to: its outcome (<see cref="Contracts.Events.RouteOutcomes"/>), attempts, the last status, the JSON answer.</summary>
public sealed record CallResult(string Outcome, int Attempts, int? HttpStatus, string? Error, JsonElement? Response);

/// <summary>
/// Calls a connector operation (docs/routing.md "Connectors"): the event's data as the JSON body, the path's <c>{var}</c>
/// filled (URL-escaped), <c>Kefu-Timeout-Ms</c> (what this attempt may take), <c>Idempotency-Key</c> (the same for every
/// attempt and every re-run of the route for this event), <c>Kefu-Event-Id</c> and the auth header from configuration.
/// Retries (Polly): 408, 429, 5xx, network errors and attempt timeouts, with exponential backoff and jitter; a
/// <c>Retry-After</c> answer sets the next delay. Each attempt gets min(step timeout, time left) and no attempt starts
/// without time left: the route's <see cref="CancellationToken"/> ends everything at the deadline.
/// </summary>
public sealed class RoutingConnector(IHttpClientFactory clients, IOptions<RoutingOptions> options, TimeProvider time)
{
    public const string ClientName = "kefu-routing";

    /// <summary>Less than this left: no new attempt (it could not do anything useful).</summary>
    private static readonly TimeSpan MinimumAttempt = TimeSpan.FromMilliseconds(5);

    public async Task<CallResult> CallAsync(CallRequest call, CancellationToken routeToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        var connector = call.Connector;
        if (!connector.Operations.TryGetValue(call.Operation, out var operation))
        {
            return Failed($"connector {connector.Name} has no operation {call.Operation}");
        }

        var path = operation.Path.Render(call.Scope, urlEscape: true);
        if (!path.Succeeded)
        {
            return Failed($"missing variable {path.Missing}");
        }

        string? auth = null;
        if (connector.Auth is { } spec)
        {
            if (!options.Value.Secrets.TryGetValue(spec.SecretRef, out var secret) || string.IsNullOrEmpty(secret))
            {
                return Failed($"secret {spec.SecretRef} is not configured (Kefu:Routing:Secrets:{spec.SecretRef})");
            }

            auth = (spec.Prefix ?? string.Empty) + secret;
        }

        var url = new Uri(connector.BaseUrl.ToString().TrimEnd('/') + "/" + path.Text!.TrimStart('/'));
        var method = new HttpMethod(operation.Method.ToUpperInvariant());
        var body = method == HttpMethod.Get || method == HttpMethod.Head || method == HttpMethod.Delete ? null : call.BodyJson;
        var http = clients.CreateClient(ClientName);
        var attempts = 0;
        var deadline = call.Deadline;

        async ValueTask<HttpResponseMessage> AttemptAsync(CancellationToken token)
        {
            var left = deadline - time.GetUtcNow();
            if (left < MinimumAttempt)
            {
                throw new OperationCanceledException("no time left for another attempt", token);
            }

            var limit = call.StepTimeout < left ? call.StepTimeout : left;
            attempts++;
            using var request = new HttpRequestMessage(method, url);
            request.Headers.TryAddWithoutValidation("Kefu-Timeout-Ms", ((long)Math.Ceiling(limit.TotalMilliseconds)).ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.TryAddWithoutValidation("Idempotency-Key", call.IdempotencyKey);
            request.Headers.TryAddWithoutValidation("Kefu-Event-Id", call.EventId);
            if (auth is not null && connector.Auth is { } a)
            {
                request.Headers.TryAddWithoutValidation(a.Header, auth);
            }

            if (body is not null)
            {
                request.Content = new StringContent(body, Encoding.UTF8, "application/json");
            }

            using var attempt = new CancellationTokenSource(limit, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(token, attempt.Token);
            try
            {
                var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, linked.Token);
                return response;
            }
            catch (OperationCanceledException) when (!token.IsCancellationRequested && attempt.IsCancellationRequested)
            {
                throw new AttemptTimeoutException(limit);
            }
        }

        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time };
        if (call.Retry.Retries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = call.Retry.Retries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = call.Retry.BaseDelay > TimeSpan.Zero ? call.Retry.BaseDelay : TimeSpan.FromMilliseconds(1),
                MaxDelay = call.Retry.MaxDelay,
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome, deadline - time.GetUtcNow())),
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result)),
            });
        }

        var pipeline = builder.Build();
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await pipeline.ExecuteAsync(AttemptAsync, routeToken);
            var status = (int)response.StatusCode;
            if (status is >= 200 and < 300)
            {
                return new CallResult(Contracts.Events.RouteOutcomes.Succeeded, attempts, status, null, await JsonOfAsync(response));
            }

            var why = RetryAfter(response) is { } wait && wait >= deadline - time.GetUtcNow()
                ? $"HTTP {status}; Retry-After {wait.TotalSeconds:0.#}s is past the deadline"
                : $"HTTP {status}";
            return new CallResult(Contracts.Events.RouteOutcomes.Failed, attempts, status, why, null);
        }
        catch (AttemptTimeoutException ex)
        {
            return new CallResult(Contracts.Events.RouteOutcomes.TimedOut, attempts, null, ex.Message, null);
        }
        catch (OperationCanceledException)
        {
            var elapsed = Stopwatch.GetElapsedTime(started);
            return new CallResult(Contracts.Events.RouteOutcomes.TimedOut, attempts, null, $"the route's deadline passed after {elapsed.TotalMilliseconds:0} ms", null);
        }
        catch (HttpRequestException ex)
        {
            return new CallResult(Contracts.Events.RouteOutcomes.Failed, attempts, null, "network: " + ex.Message, null);
        }
    }

    /// <summary>408, 429, 5xx, network errors and attempt timeouts — unless a <c>Retry-After</c> asks to wait past the deadline.</summary>
    public static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, TimeSpan left)
    {
        if (left <= MinimumAttempt)
        {
            return false;
        }

        if (outcome.Exception is not null)
        {
            return outcome.Exception is HttpRequestException or AttemptTimeoutException;
        }

        var response = outcome.Result!;
        var status = (int)response.StatusCode;
        var retryable = status is 408 or 429 or >= 500;
        return retryable && (RetryAfter(response) is not { } wait || wait < left);
    }

    /// <summary>The delay a <c>Retry-After</c> header asks for (seconds or a date), else null (the backoff decides).</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage? response)
    {
        if (response?.Headers.RetryAfter is not { } header)
        {
            return null;
        }

        if (header.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (header.Date is { } date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }

    private static async Task<JsonElement?> JsonOfAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null; // not JSON: the call succeeded, there is just no result to read from
        }
    }

    private static CallResult Failed(string error) => new(Contracts.Events.RouteOutcomes.Failed, 0, null, error, null);
}

/// <summary>One call as the route asks for it.</summary>
public sealed record CallRequest(
    ConnectorSpec Connector,
    string Operation,
    TemplateScope Scope,
    string? BodyJson,
    string EventId,
    string IdempotencyKey,
    TimeSpan StepTimeout,
    RetrySpec Retry,
    DateTimeOffset Deadline);

/// <summary>One attempt took longer than its share of the budget (retried while time is left).</summary>
public sealed class AttemptTimeoutException(TimeSpan limit) : Exception($"no answer within {limit.TotalMilliseconds:0} ms")
{
    public AttemptTimeoutException()
        : this(TimeSpan.Zero)
    {
    }
}
