using System.Security.Claims;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kefu.Gateway.Api;

/// <summary>Teams: every agent sees them, admins change them.</summary>
public static class TeamsApi
{
    public static IEndpointRouteBuilder MapTeamsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/teams").WithTags("teams");
        group.MapGet("/", ListAsync).RequireAuthorization(KefuPolicies.Agent);
        group.MapPut("/{teamId}", PutAsync).RequireAuthorization(KefuPolicies.Admin);
        group.MapDelete("/{teamId}", DeleteAsync).RequireAuthorization(KefuPolicies.Admin);
        return app;
    }

    private static async Task<Ok<TeamListResponse>> ListAsync(ClaimsPrincipal user, IGrainFactory grains)
    {
        var teams = await grains.GetGrain<ITenantGrain>(user.ToCaller().Tenant).ListTeams();
        return TypedResults.Ok(new TeamListResponse([.. teams.Select(TeamDto.From)]));
    }

    private static async Task<Results<Ok<TeamDto>, ProblemHttpResult>> PutAsync(
        string teamId, TeamRequest? request, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!Tenancy.IsValidName(teamId))
        {
            return Problems.Invalid("team id must be 1-64 characters: a-z, 0-9, '-', '_', '.'.");
        }

        if (request?.Name is null)
        {
            return Problems.Invalid("name is required.");
        }

        var outcome = await grains.GetGrain<ITenantGrain>(user.ToCaller().Tenant)
            .PutTeam(new TeamConfig(teamId, request.Name, request.AgentIds ?? []));
        return outcome.Error is { } error ? Problems.From(error) : TypedResults.Ok(TeamDto.From(outcome.Value!));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string teamId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!Tenancy.IsValidName(teamId))
        {
            return Problems.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "Team was not found.");
        }

        var outcome = await grains.GetGrain<ITenantGrain>(user.ToCaller().Tenant).DeleteTeam(teamId);
        return outcome.Error is { } error ? Problems.From(error) : TypedResults.NoContent();
    }
}
