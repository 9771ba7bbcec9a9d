using System.Globalization;
using System.Security.Claims;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Auth;
using Kefu.Grains.Search;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Primitives;

namespace Kefu.Gateway.Api;

/// <summary>
/// <c>GET /api/v1/conversations/search?q=&amp;status=&amp;tag=&amp;contact=&amp;inbox=&amp;from=&amp;to=&amp;cursor=&amp;limit=</c>
/// (issue #20 item 3, docs/search.md): conversations whose messages (and, for agents, internal notes) contain every word
/// of <c>q</c>, by their newest matching message, newest first, with up to three snippets each. Who sees what follows the
/// conversation list: agents see what the list would show them, service keys (scope <c>conversations:read</c>) see their
/// inboxes and never notes.
/// </summary>
public static class SearchApi
{
    public const string InvalidQuery = "invalid_query";
    public const int MaxQueryLength = 200;
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;
    private const int MaxTagLength = 32;

    public static IEndpointRouteBuilder MapSearchApi(this IEndpointRouteBuilder app)
    {
        // A literal segment: routing prefers it to /api/v1/conversations/{conversationId}, and "search" is no ULID.
        app.MapGet("/api/v1/conversations/search", SearchAsync)
            .WithTags("conversations")
            .WithSummary("Search conversations by text")
            .WithDescription("`q` (1-" + MaxQueryLength + " characters; every word must appear, Chinese and Japanese need no spaces) with " +
                "optional `status`, `tag`, `contact` (contact id), `inbox`, `from` / `to` (ISO 8601 times or dates, on the message's " +
                "time; a date `to` includes that day), `cursor` (the `next` of an earlier answer) and `limit` (1-" + MaxLimit + ").")
            .RequireAuthorization(ApiKeyPolicies.AgentsOr(Scopes.ConversationsRead));

        // The backfill from the message store (docs/search.md "Backfill"), admins only. Literal segments again.
        app.MapPost("/api/v1/conversations/search/reindex", ReindexAsync)
            .WithTags("conversations")
            .WithSummary("Re-index the tenant's messages for search")
            .WithDescription("Starts indexing every message in the message store (history older than the event log), in small paced steps; " +
                "`202` with its progress. Idempotent: while a run is on, asking again returns it. Watch it with `GET` on the same path.")
            .RequireAuthorization(KefuPolicies.Admin);
        app.MapGet("/api/v1/conversations/search/reindex", ReindexStatusAsync)
            .WithTags("conversations")
            .WithSummary("Progress of the search re-index")
            .WithDescription("`state` (`none`, `running`, `done`), `startedAt`, `completedAt`, `conversations` walked, `messages` read and " +
                "`indexed` (those with text) in the current or last run, and `runs`.")
            .RequireAuthorization(KefuPolicies.Admin);
        return app;
    }

    private static async Task<Accepted<SearchReindexDto>> ReindexAsync(ClaimsPrincipal user, IGrainFactory grains) =>
        TypedResults.Accepted("/api/v1/conversations/search/reindex",
            SearchReindexDto.From(await grains.GetGrain<ISearchBackfillGrain>(user.ToCaller().Tenant).Start()));

    private static async Task<Ok<SearchReindexDto>> ReindexStatusAsync(ClaimsPrincipal user, IGrainFactory grains) =>
        TypedResults.Ok(SearchReindexDto.From(await grains.GetGrain<ISearchBackfillGrain>(user.ToCaller().Tenant).GetStatus()));

    // The query is read by hand: a binding failure would answer a generic bad_request without the field's code.
    private static async Task<Results<Ok<SearchResponse>, ProblemHttpResult>> SearchAsync(HttpRequest request, ClaimsPrincipal user, IGrainFactory grains)
    {
        var query = request.Query;
        if (!One(query, "q", out var q) || string.IsNullOrWhiteSpace(q) || q.Length > MaxQueryLength)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, InvalidQuery, $"q must be 1 to {MaxQueryLength} characters.");
        }

        var tokens = SearchTokenizer.QueryTokens(q);
        if (tokens.Count == 0 || tokens.Count > SearchTokenizer.MaxQueryTokens)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, InvalidQuery,
                $"q must hold at least one word (letters, digits or CJK characters) and at most {SearchTokenizer.MaxQueryTokens} distinct words.");
        }

        if (!One(query, "status", out var status) || (status is not null && !ConversationStatus.IsKnown(status)))
        {
            return Problems.Invalid($"status must be one of: {string.Join(", ", ConversationStatus.All)}.");
        }

        // Tags are stored trimmed and lower-case (at most 32 characters), so the filter is normalised the same way.
        var tag = One(query, "tag", out var rawTag) ? rawTag?.Trim().ToLowerInvariant() : "";
        if (tag is not null && (tag.Length is < 1 or > MaxTagLength || tag.Any(char.IsControl)))
        {
            return Problems.Invalid($"tag must be 1 to {MaxTagLength} characters.");
        }

        if (!One(query, "inbox", out var inbox) || (inbox is not null && !Tenancy.IsValidName(inbox)))
        {
            return Problems.Invalid("inbox must be a valid id: a-z, 0-9, '-', '_', '.'.");
        }

        if (!One(query, "contact", out var contact) || (contact is not null && !Ulid.TryParse(contact, out _)))
        {
            return Problems.Invalid("contact must be a contact id.");
        }

        if (!One(query, "from", out var fromText) || !TryParseTime(fromText, endOfDay: false, out var from)
            || !One(query, "to", out var toText) || !TryParseTime(toText, endOfDay: true, out var to))
        {
            return Problems.Invalid("from and to must be ISO 8601 times (2026-12-01T08:00:00Z) or dates (2026-12-01).");
        }

        if (from is not null && to is not null && from >= to)
        {
            return Problems.Invalid("from must be before to.");
        }

        SearchPosition? after = null;
        if (!One(query, "cursor", out var cursor) || (cursor is not null && !SearchText.TryParseCursor(cursor, out after)))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, EventsApi.InvalidCursor, "cursor must be the next of an earlier answer.");
        }

        var limit = DefaultLimit;
        if (!One(query, "limit", out var limitText)
            || (limitText is not null && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit)))
        {
            return Problems.Invalid($"limit must be a whole number from 1 to {MaxLimit}.");
        }

        var caller = user.ToCaller();
        string[]? inboxes = null;
        if (caller.IsServiceKey)
        {
            // A key restricted to inboxes searches those only (the list's rule); asking for another one finds nothing.
            var restrictedTo = user.FindAll(KefuClaims.Inbox).Select(c => c.Value).ToArray();
            if (restrictedTo.Length > 0)
            {
                inboxes = inbox is null ? restrictedTo : user.AllowsInbox(inbox) ? [inbox] : [];
            }
        }

        string[]? conversationIds = null;
        if (contact is not null)
        {
            var found = await grains.GetGrain<IContactGrain>(Tenancy.Key(caller.Tenant, contact)).Get();
            conversationIds = found?.ConversationIds ?? [];
        }

        var search = new SearchQuery(caller.Id, caller.IsAdmin || caller.IsServiceKey, q, limit, status, tag, inbox, inboxes, conversationIds,
            from, to, IncludeNotes: !caller.IsServiceKey, after);
        var page = (conversationIds is { Length: 0 } || inboxes is { Length: 0 })
            ? new SearchPage([], null)
            : await grains.GetGrain<ISearchGrain>(caller.Tenant).Search(search);
        return TypedResults.Ok(new SearchResponse([.. page.Results.Select(SearchResultDto.From)], page.Next is { } next ? SearchText.FormatCursor(next) : null));
    }

    /// <summary>False when the parameter is given more than once; <paramref name="value"/> is null when it is absent.</summary>
    private static bool One(IQueryCollection query, string name, out string? value)
    {
        value = null;
        if (!query.TryGetValue(name, out StringValues values))
        {
            return true;
        }

        if (values.Count != 1)
        {
            return false;
        }

        value = values[0];
        return true;
    }

    private static bool TryParseTime(string? text, bool endOfDay, out DateTimeOffset? value)
    {
        value = null;
        if (text is null)
        {
            return true;
        }

        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            // A date is that day in UTC; as the end of a range it includes the whole day.
            var start = new DateTimeOffset(date.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            value = endOfDay ? start.AddDays(1) : start;
            return true;
        }

        if (text.Contains('T', StringComparison.Ordinal)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            value = time;
            return true;
        }

        return false;
    }
}

public sealed record SearchResponse(SearchResultDto[] Results, string? Next);

public sealed record SearchResultDto(
    string ConversationId, string Inbox, string Status, string VisitorId, string? VisitorName, string? AssigneeId, string? AssigneeName,
    string[] Tags, DateTimeOffset CreatedAt, DateTimeOffset LastHitAt, SearchHitDto[] Hits)
{
    public static SearchResultDto From(SearchResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return new(r.ConversationId, r.Inbox, r.Status, r.VisitorId, r.VisitorName, r.AssigneeId, r.AssigneeName, r.Tags, r.CreatedAt, r.LastHitAt,
            [.. r.Hits.Select(h => new SearchHitDto(h.Kind, h.Seq, h.SenderRole, h.At, h.Snippet))]);
    }
}

public sealed record SearchReindexDto(
    string State, DateTimeOffset? StartedAt, DateTimeOffset? CompletedAt, long Conversations, long Messages, long Indexed, int Runs)
{
    public static SearchReindexDto From(SearchBackfillStatus s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return new(s.State, s.StartedAt, s.CompletedAt, s.Conversations, s.Messages, s.Indexed, s.Runs);
    }
}

public sealed record SearchHitDto(string Kind, long Seq, string SenderRole, DateTimeOffset At, string Snippet);
