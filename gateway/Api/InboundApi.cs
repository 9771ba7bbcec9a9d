using System.Security.Claims;
using System.Text.Json;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Auth;
using Kefu.Grains.Inbound;

namespace Kefu.Gateway.Api;

/// <summary>
/// <c>POST /api/v1/webhook</c> (INTEGRATION.md §3, docs/integration.md §9): a business event, accepted once per sender id.
/// The gateway checks the body; <see cref="IInboundEventGrain"/> (one per sender id) deduplicates durably, finds or
/// creates the contact and its conversation, and records inbound.received. 202 is answered only after that write.
/// </summary>
public static class InboundApi
{
    /// <summary>Configuration key of the body limit in bytes (default 256 KiB).</summary>
    public const string MaxBodyBytesKey = "Kefu:Inbound:MaxBodyBytes";

    public const int DefaultMaxBodyBytes = 256 * 1024;

    /// <summary>The answer is the original one, for an id (or Idempotency-Key) seen before.</summary>
    public const string ReplayedHeader = "Idempotent-Replayed";


    public static IEndpointRouteBuilder MapInboundApi(this IEndpointRouteBuilder app)
    {
        var maxBytes = app.ServiceProvider.GetRequiredService<IConfiguration>().GetValue<int?>(MaxBodyBytesKey) ?? DefaultMaxBodyBytes;
        app.MapPost("/api/v1/webhook", (HttpRequest request, ClaimsPrincipal user, IGrainFactory grains, CancellationToken cancellationToken) =>
                AcceptAsync(request, user, grains, maxBytes, cancellationToken))
            .WithTags("inbound")
            .Produces<InboundAccepted>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .RequireAuthorization(KefuPolicies.ForScope(Scopes.EventsWrite));
        return app;
    }

    private static async Task<IResult> AcceptAsync(HttpRequest request, ClaimsPrincipal user, IGrainFactory grains, int maxBytes, CancellationToken cancellationToken)
    {
        var (body, tooLarge) = await JsonBody.ReadAsync(request, maxBytes, cancellationToken);
        if (tooLarge is not null)
        {
            return tooLarge;
        }

        var (document, invalid) = JsonBody.ParseObject(body!);
        if (invalid is not null)
        {
            return invalid;
        }

        using (document)
        {
            var parsed = Parse(document!.RootElement, user);
            if (parsed.Problem is not null)
            {
                return parsed.Problem;
            }

            var (timeout, timeoutProblem) = ReadTimeout(request);
            if (timeoutProblem is not null)
            {
                return timeoutProblem;
            }

            var caller = user.ToCaller();
            var inbound = parsed.Event! with { Timeout = timeout };
            var outcome = await grains.GetGrain<IInboundEventGrain>(Tenancy.Key(caller.Tenant, inbound.SourceId)).Accept(inbound, caller);
            if (outcome.Error is { } error)
            {
                return error.Code == InboundErrors.IdempotencyMismatch
                    ? Problems.Create(StatusCodes.Status422UnprocessableEntity, error.Code, error.Message)
                    : Problems.From(error);
            }

            var ack = outcome.Value!;
            if (ack.Replayed)
            {
                request.HttpContext.Response.Headers[ReplayedHeader] = "true";
            }

            return TypedResults.Json(new InboundAccepted(ack.EventId, "accepted", ack.ConversationId, ack.ContactId), statusCode: StatusCodes.Status202Accepted);
        }
    }

    /// <summary>Header with the sender's deadline in milliseconds: the routes the event triggers get no more time (docs/routing.md).</summary>
    public const string TimeoutHeader = "Kefu-Timeout-Ms";

    /// <summary>At most a day: a deadline is for a route's calls, not a schedule.</summary>
    public const int MaxTimeoutMs = 86_400_000;

    private static (TimeSpan? Timeout, IResult? Problem) ReadTimeout(HttpRequest request)
    {
        if (!request.Headers.TryGetValue(TimeoutHeader, out var values))
        {
            return (null, null);
        }

        return values.Count == 1 && int.TryParse(values[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ms)
            && ms is > 0 and <= MaxTimeoutMs
            ? (TimeSpan.FromMilliseconds(ms), null)
            : (null, Problems.Invalid($"{TimeoutHeader} must be a whole number of milliseconds from 1 to {MaxTimeoutMs}."));
    }

    /// <summary>The event, or the problem with its body (<see cref="InboundParser"/>, shared with Kafka and gRPC).</summary>
    internal static (InboundEvent? Event, IResult? Problem) Parse(JsonElement root, ClaimsPrincipal user)
    {
        var allowed = user.IsServiceKey() ? user.FindAll(KefuClaims.Inbox).Select(c => c.Value).ToArray() : null;
        var (inbound, error) = InboundParser.Parse(root, allowed);
        return error is null ? (inbound, null) : (null, Problems.From(error));
    }
}

/// <summary>The answer to an accepted business event (INTEGRATION.md §3), with what it was attached to.</summary>
public sealed record InboundAccepted(
    string EventId,
    string Status,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? ConversationId,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? ContactId);
