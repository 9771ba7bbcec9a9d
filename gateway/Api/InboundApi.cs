using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Auth;

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

    public const int MaxIdLength = 128;
    public const int MaxTypeLength = 128;
    public const int MaxExternalIdLength = 128;
    public const int MaxNameLength = 200;
    public const int MaxEmailLength = 320;

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

    /// <summary>The event, or the problem with its body. Unknown members are ignored (senders may add their own).</summary>
    internal static (InboundEvent? Event, IResult? Problem) Parse(JsonElement root, ClaimsPrincipal user)
    {
        var (id, idProblem) = JsonBody.Text(root, "id", MaxIdLength, required: true);
        if (idProblem is not null)
        {
            return (null, idProblem);
        }

        var (type, typeProblem) = JsonBody.Text(root, "type", MaxTypeLength, required: true);
        if (typeProblem is not null)
        {
            return (null, typeProblem);
        }

        var (conversationId, conversationProblem) = JsonBody.Text(root, "conversationId", 64, required: false);
        if (conversationProblem is not null)
        {
            return (null, conversationProblem);
        }

        string? externalId = null, name = null, email = null;
        if (root.TryGetProperty("contact", out var contact) && contact.ValueKind != JsonValueKind.Null)
        {
            if (contact.ValueKind != JsonValueKind.Object)
            {
                return (null, Problems.Invalid("contact must be an object with externalId."));
            }

            IResult? problem;
            (externalId, problem) = JsonBody.Text(contact, "externalId", MaxExternalIdLength, required: true, "contact.externalId");
            if (problem is not null)
            {
                return (null, problem);
            }

            (name, problem) = JsonBody.Text(contact, "name", MaxNameLength, required: false, "contact.name");
            if (problem is not null)
            {
                return (null, problem);
            }

            (email, problem) = JsonBody.Text(contact, "email", MaxEmailLength, required: false, "contact.email");
            if (problem is not null)
            {
                return (null, problem);
            }
        }

        if (conversationId is not null && externalId is not null)
        {
            return (null, Problems.Invalid("Give conversationId or contact, not both."));
        }

        if (conversationId is not null && !Ulid.TryParse(conversationId, out _))
        {
            // Conversation ids are ULIDs: anything else names no conversation (and activates no grain).
            return (null, Problems.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "Conversation was not found."));
        }

        var data = "{}";
        if (root.TryGetProperty("data", out var dataElement) && dataElement.ValueKind != JsonValueKind.Null)
        {
            if (dataElement.ValueKind != JsonValueKind.Object)
            {
                return (null, Problems.Invalid("data must be a JSON object."));
            }

            data = System.Text.Encoding.UTF8.GetString(JsonBody.Compact(dataElement));
        }

        var (inbox, inboxProblem) = JsonBody.Text(root, "inbox", 64, required: false);
        if (inboxProblem is not null || (inbox is not null && !Tenancy.IsValidName(inbox)))
        {
            return (null, inboxProblem ?? Problems.Invalid("inbox must be an inbox name."));
        }

        var allowed = user.IsServiceKey() ? user.FindAll(KefuClaims.Inbox).Select(c => c.Value).ToArray() : null;
        inbox ??= allowed is { Length: > 0 } ? allowed[0] : Tenancy.DefaultInbox;

        // The hash is of the compact form: a retry that differs only in whitespace is the same body (member order and
        // values must match).
        var hash = Convert.ToHexStringLower(SHA256.HashData(JsonBody.Compact(root)));
        return (new InboundEvent(id!, type!, conversationId, externalId, name, email, data, hash, inbox, allowed), null);
    }
}

/// <summary>The answer to an accepted business event (INTEGRATION.md §3), with what it was attached to.</summary>
public sealed record InboundAccepted(
    string EventId,
    string Status,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? ConversationId,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? ContactId);
