using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Auth;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;

namespace Kefu.Gateway.Api;

/// <summary>
/// The <c>Idempotency-Key</c> header on mutating integration calls (INTEGRATION.md §3, last point), as an endpoint filter
/// any endpoint adds with <c>.WithIdempotencyKey()</c>. The same key (per caller) with the same request gets the original
/// answer again with <c>Idempotent-Replayed: true</c> and runs nothing; with a different request → 422
/// <c>idempotency_mismatch</c>; while the first request with the key still runs → 409 <c>idempotency_in_progress</c>.
/// Only successful (2xx) answers are kept (for <c>Kefu:Inbound:IdempotencyRetention</c>, default 24 h), so a request
/// that failed runs again when retried. Requests without the header are not affected.
/// </summary>
public static class Idempotency
{
    public const string Header = "Idempotency-Key";
    public const string InProgress = "idempotency_in_progress";
    public const int MaxKeyLength = 255;

    /// <summary>The most a request body may be for the filter to read it (larger bodies are refused by the endpoint anyway).</summary>
    private const int MaxFingerprintBody = 1024 * 1024;

    public static TBuilder WithIdempotencyKey<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(AcceptsIdempotencyKey.Instance).AddEndpointFilterFactory((factory, next) =>
        {
            // Endpoints whose body the framework binds have read it before filters run: their fingerprint is the bound
            // arguments. Endpoints that read the body themselves get it buffered here and rewound.
            var bindsBody = factory.MethodInfo.GetParameters().Length > 0
                && factory.ApplicationServices.GetService<IServiceProviderIsService>() is var isService
                && factory.MethodInfo.GetParameters().Any(p => IsBodyArgument(p.ParameterType, isService));
            return context => InvokeAsync(context, next, bindsBody);
        });

    private static async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next, bool bindsBody)
    {
        var http = context.HttpContext;
        if (!http.Request.Headers.TryGetValue(Header, out var values))
        {
            return await next(context);
        }

        if (values.Count != 1 || values[0] is not { Length: >= 1 and <= MaxKeyLength } key)
        {
            return Problems.Invalid($"{Header} must be one value of 1 to {MaxKeyLength} characters.");
        }

        var caller = http.User.ToCaller();
        var fingerprint = await FingerprintAsync(context, bindsBody, http.RequestAborted);
        var grain = http.RequestServices.GetRequiredService<IGrainFactory>()
            .GetGrain<IIdempotencyGrain>(Tenancy.Key(caller.Tenant, string.Concat(caller.KeyId ?? caller.ParticipantKey, "\n", key)));
        var begin = await grain.Begin(fingerprint);
        switch (begin.Decision)
        {
            case IdempotencyDecision.Replay:
                http.Response.Headers[InboundApi.ReplayedHeader] = "true";
                return new StoredResult(begin.Response!);
            case IdempotencyDecision.Mismatch:
                return Problems.Create(StatusCodes.Status422UnprocessableEntity, InboundErrors.IdempotencyMismatch,
                    $"This {Header} was used before with a different request.");
            case IdempotencyDecision.InProgress:
                return Problems.Create(StatusCodes.Status409Conflict, InProgress, $"A request with this {Header} is still running; try again.");
        }

        StoredResponse response;
        try
        {
            response = await CaptureAsync(http, await next(context));
        }
        catch
        {
            await grain.Abandon(fingerprint);
            throw;
        }

        if (response.Status is not (>= 200 and < 300))
        {
            // Only successes are kept: a failed request's retry runs again.
            await grain.Abandon(fingerprint);
            return new StoredResult(response);
        }

        try
        {
            await grain.Complete(fingerprint, response);
        }
#pragma warning disable CA1031 // the request has succeeded: its answer is given even if it could not be kept for replay
        catch (Exception)
#pragma warning restore CA1031
        {
            // Not kept: a retry with this key runs again (its own rules, e.g. clientMsgId, still deduplicate it).
            await grain.Abandon(fingerprint);
        }

        return new StoredResult(response);
    }

    /// <summary>Method, path and the request body (or its bound form): what must be equal for a retry to be the same request.</summary>
    private static async Task<string> FingerprintAsync(EndpointFilterInvocationContext context, bool bindsBody, CancellationToken cancellationToken)
    {
        var request = context.HttpContext.Request;
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes(string.Concat(request.Method, " ", request.Path.Value, request.QueryString.Value, "\n")));
        if (bindsBody)
        {
            var isService = context.HttpContext.RequestServices.GetService<IServiceProviderIsService>();
            foreach (var argument in context.Arguments)
            {
                if (argument is not null && IsBodyArgument(argument.GetType(), isService))
                {
                    sha.AppendData(JsonSerializer.SerializeToUtf8Bytes(argument, argument.GetType()));
                }
            }
        }
        else
        {
            request.EnableBuffering(MaxFingerprintBody);
            var (body, _) = await JsonBody.ReadAsync(request, MaxFingerprintBody, cancellationToken);
            request.Body.Position = 0;
            sha.AppendData(body ?? []);
        }

        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private static bool IsBodyArgument(Type type, IServiceProviderIsService? isService) =>
        !type.IsInterface && !type.IsPrimitive && type != typeof(string) && type != typeof(CancellationToken)
        && !typeof(HttpContext).IsAssignableFrom(type) && !typeof(HttpRequest).IsAssignableFrom(type) && !typeof(HttpResponse).IsAssignableFrom(type)
        && !typeof(ClaimsPrincipal).IsAssignableFrom(type) && !typeof(Stream).IsAssignableFrom(type)
        && isService?.IsService(type) != true;

    /// <summary>Runs the endpoint's result into a buffer (so it can be kept) instead of the response.</summary>
    private static async Task<StoredResponse> CaptureAsync(HttpContext http, object? result)
    {
        var originalBody = http.Features.Get<IHttpResponseBodyFeature>()!;
        using var buffer = new MemoryStream();
        http.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(buffer));
        try
        {
            var asResult = result switch
            {
                IResult r => r,
                null => Results.Empty,
                string text => Results.Text(text),
                _ => Results.Json(result),
            };
            await asResult.ExecuteAsync(http);
        }
        finally
        {
            http.Features.Set(originalBody);
        }

        var location = http.Response.Headers.Location.Count > 0 ? http.Response.Headers.Location.ToString() : null;
        return new StoredResponse(http.Response.StatusCode, http.Response.ContentType, buffer.ToArray(), location);
    }

    /// <summary>A kept (or just captured) answer, written as it was.</summary>
    private sealed class StoredResult(StoredResponse response) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = response.Status;
            if (response.ContentType is { } contentType)
            {
                httpContext.Response.ContentType = contentType;
            }

            if (response.Location is { } location)
            {
                httpContext.Response.Headers.Location = location;
            }

            httpContext.Response.ContentLength = response.Body.Length;
            await httpContext.Response.Body.WriteAsync(response.Body);
        }
    }
}
