using System.Security.Claims;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kefu.Gateway.Api;

/// <summary>A visitor as agents see it (and the visitor itself): what the pre-chat or leave-a-message form gave.</summary>
public sealed record VisitorDetailsResponse(
    string VisitorId, string? Name, string? Email, string Inbox, Dictionary<string, string> Attributes, DateTime CreatedAt, string? ConversationId)
{
    public static async Task<VisitorDetailsResponse?> LoadAsync(IGrainFactory grains, string tenant, string visitorId)
    {
        var visitor = grains.GetGrain<IVisitorGrain>(Tenancy.Key(tenant, visitorId));
        if (await visitor.GetProfile() is not { } profile)
        {
            return null;
        }

        return new(visitorId, profile.Name, profile.Email, profile.Inbox, profile.Attributes ?? [], profile.CreatedAt.UtcDateTime,
            await visitor.GetCurrentConversation());
    }
}

/// <summary><c>GET /api/v1/visitors/{visitorId}</c> for the agents of the visitor's tenant (the console's details pane).</summary>
public static class VisitorDetailsApi
{
    public static RouteHandlerBuilder MapVisitorDetails(this RouteGroupBuilder group) =>
        group.MapGet("/{visitorId}", GetAsync).RequireAuthorization(KefuPolicies.Agent);

    private static async Task<Results<Ok<VisitorDetailsResponse>, ProblemHttpResult>> GetAsync(
        string visitorId, ClaimsPrincipal user, IGrainFactory grains)
    {
        // Visitor ids are ULIDs; anything else cannot name a visitor (and must not activate a grain).
        if (!Ulid.TryParse(visitorId, out _))
        {
            return NotFound();
        }

        var caller = user.ToCaller();
        return await VisitorDetailsResponse.LoadAsync(grains, caller.Tenant, visitorId) is { } details
            ? TypedResults.Ok(details)
            : NotFound();
    }

    private static ProblemHttpResult NotFound() =>
        Problems.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "No such visitor.");
}
