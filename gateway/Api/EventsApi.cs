using System.Security.Claims;
using System.Text.Json;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Gateway.Auth;
using Microsoft.Extensions.Primitives;

namespace Kefu.Gateway.Api;

/// <summary>
/// <c>GET /api/v1/events?after=&amp;types=&amp;limit=</c> (../shared/INTEGRATION.md §2, docs/integration.md): the tenant's
/// outbox in cursor order, for business systems that poll, resume and replay. Admin JWTs, or service keys with
/// <c>events:read</c> (never restricted to inboxes: the stream is the whole tenant's, see ApiKeyRules.TenantWide).
/// </summary>
public static class EventsApi
{
    /// <summary><c>after</c> is not a cursor this API handed out (16 lower-case hex digits).</summary>
    public const string InvalidCursor = "invalid_cursor";

    /// <summary>Events after the cursor were deleted by retention: the consumer has missed some and must resynchronize.</summary>
    public const string CursorExpired = "cursor_expired";

    public const int DefaultLimit = 100;
    public const int MaxLimit = 500;

    public static IEndpointRouteBuilder MapEventsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/events", ReadAsync).WithTags("events").RequireAuthorization(KefuPolicies.ForScope(Scopes.EventsRead));
        return app;
    }

    // The query is read by hand: a binding failure would answer a generic bad_request without the field's code.
    private static async Task<IResult> ReadAsync(HttpRequest request, ClaimsPrincipal user, IGrainFactory grains)
    {
        var query = request.Query;
        long? after = null;
        if (query.TryGetValue("after", out var afterValues))
        {
            if (afterValues.Count != 1 || !EventCursor.TryParse(afterValues[0], out var cursor))
            {
                return Problems.Create(StatusCodes.Status400BadRequest, InvalidCursor, "after must be a cursor from an earlier answer (16 lower-case hex digits).");
            }

            after = cursor;
        }

        var limit = DefaultLimit;
        if (query.TryGetValue("limit", out var limitValues)
            && (limitValues.Count != 1 || !int.TryParse(limitValues[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit)
                || limit is < 1 or > MaxLimit))
        {
            return Problems.Invalid($"limit must be a whole number from 1 to {MaxLimit}.");
        }

        string[]? types = null;
        if (query.TryGetValue("types", out var typeValues))
        {
            types = ParseTypes(typeValues);
            if (types is null)
            {
                return Problems.Invalid($"types must be a comma-separated list of: {string.Join(", ", EventTypes.All)}.");
            }
        }

        var page = await grains.GetGrain<IEventLogGrain>(user.ToCaller().Tenant).Read(after ?? 0, types, limit);

        // Without `after` the consumer asks for the oldest retained events: that retention pruned older ones is no news.
        if (page.CursorExpired && after is not null)
        {
            return Problems.Create(StatusCodes.Status410Gone, CursorExpired,
                "Events after this cursor were deleted by retention; start again without after (from the oldest retained event).");
        }

        return new PageResult(page);
    }

    /// <summary>The known type names, without duplicates; null if one is unknown or the list is empty.</summary>
    private static string[]? ParseTypes(StringValues values)
    {
        var types = new List<string>();
        foreach (var value in values)
        {
            foreach (var name in (value ?? string.Empty).Split(',', StringSplitOptions.TrimEntries))
            {
                if (!EventTypes.IsKnown(name))
                {
                    return null;
                }

                if (!types.Contains(name))
                {
                    types.Add(name);
                }
            }
        }

        return types.Count == 0 ? null : [.. types];
    }

    /// <summary><c>{"events":[envelope…],"next":"…"}</c>, each envelope written once by <see cref="EventJson"/> with its stored data.</summary>
    private sealed class PageResult(EventPage page) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/json; charset=utf-8";
            await using (var json = new Utf8JsonWriter(context.Response.BodyWriter))
            {
                json.WriteStartObject();
                json.WritePropertyName("events");
                json.WriteStartArray();
                foreach (var e in page.Events)
                {
                    EventJson.WriteEnvelope(json, e);
                }

                json.WriteEndArray();
                json.WriteString("next", EventCursor.Format(page.Next));
                json.WriteEndObject();
            }

            await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
        }
    }
}
