using System.Security.Claims;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Auth;
using Kefu.Grains.Directory;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kefu.Gateway.Api;

/// <summary>How far the visitor has read: the console shows "read" on the agents' messages from it when it opens a conversation.</summary>
public sealed record ReadMarksResponse(string ConversationId, long VisitorReadSeq);

/// <summary>
/// <c>GET /api/v1/conversations/{id}/read</c>: the visitor's read mark, for agents who may see the conversation. The
/// <c>read</c> frame only says when it moves, so without this a console opened later would show "sent" until then.
/// </summary>
public static class ReadMarksApi
{
    public static RouteHandlerBuilder MapReadMarks(this RouteGroupBuilder group) =>
        group.MapGet("/{conversationId}/read", GetAsync).RequireAuthorization(KefuPolicies.Agent);

    private static async Task<Results<Ok<ReadMarksResponse>, ProblemHttpResult>> GetAsync(
        string conversationId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!Ulid.TryParse(conversationId, out _))
        {
            return NotFound();
        }

        var caller = user.ToCaller();
        var summary = await grains.GetGrain<IConversationGrain>(Tenancy.Key(caller.Tenant, conversationId)).GetSummary();
        if (summary is null)
        {
            return NotFound();
        }

        if (!summary.IsVisibleTo(caller.Id, caller.IsAdmin))
        {
            return Problems.Create(StatusCodes.Status403Forbidden, ErrorCodes.NotAllowed, "This conversation is assigned to another agent.");
        }

        var visitorKey = ParticipantKeys.Key(caller.Tenant, ParticipantRole.Visitor, summary.VisitorId);
        return TypedResults.Ok(new ReadMarksResponse(summary.ConversationId, summary.ReadMarks?.GetValueOrDefault(visitorKey) ?? 0));
    }

    private static ProblemHttpResult NotFound() =>
        Problems.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "Conversation was not found.");
}
