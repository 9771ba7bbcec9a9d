using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Gateway.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using System.Security.Claims;

namespace Kefu.Gateway.Api;

/// <summary>Agent accounts; admins only.</summary>
public static class AgentsApi
{
    public static IEndpointRouteBuilder MapAgentsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/agents").WithTags("agents").RequireAuthorization(KefuPolicies.Admin);
        group.MapPost("/", CreateAsync);
        group.MapGet("/", ListAsync);
        return app;
    }

    private static async Task<Results<Created<AgentResponse>, ProblemHttpResult>> CreateAsync(
        CreateAgentRequest request, ClaimsPrincipal user, IGrainFactory grains, AgentPasswords passwords, TimeProvider time)
    {
        var role = request.Role ?? AgentRoles.Agent;
        if (!Tenancy.IsValidName(request.Username))
        {
            return Problems.Invalid("username must be 1-64 characters: a-z, 0-9, '-', '_', '.'.");
        }

        if (request.Password is not { Length: >= 8 and <= 256 })
        {
            return Problems.Invalid("password must be 8 to 256 characters.");
        }

        if (!AgentRoles.IsKnown(role))
        {
            return Problems.Invalid("role must be 'agent' or 'admin'.");
        }

        var tenant = user.ToCaller().Tenant;
        var profile = new AgentProfile(request.Username!, request.DisplayName?.Trim() is { Length: > 0 } d ? d : request.Username!, role, time.GetUtcNow());
        var created = await grains.GetGrain<IAgentGrain>(Tenancy.Key(tenant, profile.AgentId)).Create(profile, passwords.Hash(request.Password));
        if (created.Error is { } error)
        {
            return Problems.From(error);
        }

        return TypedResults.Created($"/api/v1/agents/{profile.AgentId}", ToResponse(created.Value!));
    }

    private static async Task<Ok<AgentListResponse>> ListAsync(ClaimsPrincipal user, IGrainFactory grains)
    {
        var agents = await grains.GetGrain<ITenantGrain>(user.ToCaller().Tenant).ListAgents();
        return TypedResults.Ok(new AgentListResponse([.. agents.Select(ToResponse)]));
    }

    private static AgentResponse ToResponse(AgentProfile p) => new(p.AgentId, p.DisplayName, p.Role, p.CreatedAt.UtcDateTime);
}
