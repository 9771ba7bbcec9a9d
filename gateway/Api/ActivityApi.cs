using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Auth;
using Kefu.Grains.Activity;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kefu.Gateway.Api;

/// <summary>
/// <c>GET /api/v1/conversations/{id}/activity?after=&amp;limit=</c> (issue #18, docs/contact-centre.md "Activity
/// timeline and mentions"): who did what to a conversation, from the event log, in order. Agents and admins, with the
/// same rule as the conversation's notes (an agent sees a conversation that is unassigned, its own, or one it is in).
/// </summary>
public static class ActivityApi
{
    public const int DefaultLimit = 100;

    public static IEndpointRouteBuilder MapActivityApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/conversations/{conversationId}/activity", ReadAsync)
            .WithTags("conversations")
            .WithSummary("The conversation's activity timeline")
            .WithDescription("Assignments, transfers, status changes, tags and priority, ratings, routing rule executions, CRM sync " +
                "failures and email results, oldest first, each with who caused it and the fields its line shows. `after` is the " +
                "`next` of an earlier answer (16 lower-case hex digits); `limit` 1-" + ConversationActivityGrain.MaxLimit + ".")
            .RequireAuthorization(KefuPolicies.Agent);
        return app;
    }

    // The query is read by hand: a binding failure would answer a generic bad_request without the field's code.
    private static async Task<Results<Ok<ActivityResponse>, ProblemHttpResult>> ReadAsync(
        string conversationId, HttpRequest request, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!Ulid.TryParse(conversationId, out _))
        {
            return NotFound();
        }

        var query = request.Query;
        long after = 0;
        if (query.TryGetValue("after", out var afterValues) && (afterValues.Count != 1 || !EventCursor.TryParse(afterValues[0], out after)))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, EventsApi.InvalidCursor, "after must be the next of an earlier answer (16 lower-case hex digits).");
        }

        var limit = DefaultLimit;
        if (query.TryGetValue("limit", out var limitValues)
            && (limitValues.Count != 1 || !int.TryParse(limitValues[0], NumberStyles.None, CultureInfo.InvariantCulture, out limit)
                || limit is < 1 or > ConversationActivityGrain.MaxLimit))
        {
            return Problems.Invalid($"limit must be a whole number from 1 to {ConversationActivityGrain.MaxLimit}.");
        }

        // The notes' rule decides who may see the timeline (it holds who did what, like the notes do).
        var caller = user.ToCaller();
        var allowed = await grains.GetGrain<IConversationGrain>(Tenancy.Key(caller.Tenant, conversationId)).GetNotes(caller);
        if (allowed.Error is { } error)
        {
            return Problems.From(error);
        }

        var page = await grains.GetGrain<IConversationActivityGrain>(caller.Tenant).Read(conversationId, after, limit);
        return TypedResults.Ok(new ActivityResponse(
            [.. page.Items.Select(ActivityItemDto.From)], EventCursor.Format(page.Next), await CrmAsync(grains, caller.Tenant, conversationId)));
    }

    /// <summary>
    /// The conversation's record in each CRM that syncs conversations (docs/crm.md): successes are no events (one per
    /// resolve would flood the log), so the timeline reads them here; failures are <c>crm.sync_failed</c> items.
    /// </summary>
    private static async Task<ActivityCrmDto[]> CrmAsync(IGrainFactory grains, string tenant, string conversationId)
    {
        var crms = await grains.GetGrain<ICrmSyncIndexGrain>(tenant).Crms(CrmRecordKinds.Conversation);
        var views = await Task.WhenAll(crms.Select(crm =>
            grains.GetGrain<ICrmSyncGrain>(CrmSyncKeys.Of(tenant, crm, CrmRecordKinds.Conversation, conversationId)).Get()));
        return [.. views.OfType<CrmSyncView>().Select(v => new ActivityCrmDto(v.Crm, v.State, v.InSyncAt?.UtcDateTime, v.Attempts, v.LastError))];
    }

    private static ProblemHttpResult NotFound() =>
        Problems.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "Conversation was not found.");
}

/// <summary>
/// A page of the timeline; <c>next</c> is the <c>after</c> for the items that come later; <c>crm</c> is the conversation's
/// sync state in each CRM that syncs conversations (now, not paged).
/// </summary>
public sealed record ActivityResponse(ActivityItemDto[] Items, string Next, ActivityCrmDto[] Crm);

/// <summary>The conversation's record in one CRM: its state (<c>in_sync</c>, <c>pending</c>, <c>failing</c>, <c>dead</c>, <c>conflict</c>) and when it was last verified.</summary>
public sealed record ActivityCrmDto(string Crm, string State, DateTime? InSyncAt, int Attempts, string? LastError);

/// <summary>
/// One timeline line: the event's type, time and cursor, who caused it (<c>actor</c>: an agent with its name, a rule by
/// route id, a part of the system, a service key …) and the fields its type shows.
/// </summary>
public sealed record ActivityItemDto(string Cursor, string Id, string Type, DateTime Time, ActivityActorDto Actor, JsonElement Fields)
{
    public static ActivityItemDto From(ActivityItem item)
    {
        using var fields = JsonDocument.Parse(item.FieldsJson);
        return new(EventCursor.Format(item.Cursor), item.Id.ToString(), item.Type, item.Time.UtcDateTime,
            new ActivityActorDto(item.Actor.Kind, item.Actor.Id, item.Actor.Name), fields.RootElement.Clone());
    }
}

public sealed record ActivityActorDto(string Kind, string Id, string? Name);
