using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using System.Security.Claims;

namespace Kefu.Gateway.Api;

/// <summary>Agent accounts (admins manage them; every agent sees the list) and the calling agent's own status.</summary>
public static class AgentsApi
{
    public const int MaxCapacity = 1000;
    public const int MaxDisplayName = 100;

    /// <summary>A password long enough but too easy to guess (common, the user name, blank, one repeated character).</summary>
    public const string WeakPassword = "weak_password";

    public static IEndpointRouteBuilder MapAgentsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/agents").WithTags("agents");
        group.MapPost("/", CreateAsync).RequireAuthorization(KefuPolicies.Admin);
        group.MapGet("/", ListAsync).RequireAuthorization(KefuPolicies.Agent);
        group.MapGet("/me", MeAsync).RequireAuthorization(KefuPolicies.Agent);
        group.MapPut("/me/status", SetStatusAsync).RequireAuthorization(KefuPolicies.Agent);
        group.MapGet("/me/preferences", GetPreferencesAsync).RequireAuthorization(KefuPolicies.Agent);
        group.MapPut("/me/preferences", SetPreferencesAsync).RequireAuthorization(KefuPolicies.Agent);
        group.MapPatch("/{agentId}", UpdateAsync).RequireAuthorization(KefuPolicies.Admin);
        group.MapDelete("/{agentId}", DeleteAsync).RequireAuthorization(KefuPolicies.Admin);
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

        if (request.Password is not { Length: >= PasswordPolicy.MinLength and <= PasswordPolicy.MaxLength })
        {
            return Problems.Invalid("password must be 8 to 256 characters.");
        }

        if (PasswordPolicy.Weakness(request.Password, request.Username) is { } weakness)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, WeakPassword, weakness);
        }

        if (request.DisplayName?.Trim() is { Length: > MaxDisplayName })
        {
            return Problems.Invalid($"displayName must be at most {MaxDisplayName} characters.");
        }

        if (!AgentRoles.IsKnown(role))
        {
            return Problems.Invalid("role must be 'agent' or 'admin'.");
        }

        if (request.Capacity is < 1 or > MaxCapacity)
        {
            return Problems.Invalid($"capacity must be between 1 and {MaxCapacity}.");
        }

        var tenant = user.ToCaller().Tenant;
        var profile = new AgentProfile(
            request.Username!, request.DisplayName?.Trim() is { Length: > 0 } d ? d : request.Username!, role, time.GetUtcNow(),
            request.Capacity ?? AgentProfile.DefaultCapacity);
        var created = await grains.GetGrain<IAgentGrain>(Tenancy.Key(tenant, profile.AgentId)).Create(profile, await passwords.HashAsync(request.Password));
        if (created.Error is { } error)
        {
            return Problems.From(error);
        }

        return TypedResults.Created($"/api/v1/agents/{profile.AgentId}", ToResponse(created.Value!, [], null, tenant));
    }

    private static async Task<Results<Ok<AgentResponse>, ProblemHttpResult>> UpdateAsync(
        string agentId, UpdateAgentRequest? request, ClaimsPrincipal user, IGrainFactory grains, AgentPasswords passwords)
    {
        if (!Tenancy.IsValidName(agentId))
        {
            return Problems.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "Agent was not found.");
        }

        if (request is null || (request.DisplayName, request.Role, request.Capacity, request.Password, request.Active) is (null, null, null, null, null))
        {
            return Problems.Invalid("Give at least one of 'displayName', 'role', 'capacity', 'password', 'active'.");
        }

        var displayName = request.DisplayName?.Trim();
        if (displayName is { Length: 0 or > MaxDisplayName })
        {
            return Problems.Invalid($"displayName must be 1 to {MaxDisplayName} characters.");
        }

        if (request.Role is not null && !AgentRoles.IsKnown(request.Role))
        {
            return Problems.Invalid("role must be 'agent' or 'admin'.");
        }

        if (request.Capacity is < 1 or > MaxCapacity)
        {
            return Problems.Invalid($"capacity must be between 1 and {MaxCapacity}.");
        }

        if (request.Password is not null and not { Length: >= PasswordPolicy.MinLength and <= PasswordPolicy.MaxLength })
        {
            return Problems.Invalid("password must be 8 to 256 characters.");
        }

        if (request.Password is not null && PasswordPolicy.Weakness(request.Password, agentId) is { } weakness)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, WeakPassword, weakness);
        }

        var caller = user.ToCaller();
        if (agentId == caller.Id && request.Role is AgentRoles.Agent)
        {
            // Otherwise the last admin could lock the whole tenant out of its configuration.
            return Problems.Create(StatusCodes.Status409Conflict, ErrorCodes.Conflict, "You cannot take away your own admin role.");
        }

        if (agentId == caller.Id && request.Active is false)
        {
            return Problems.Create(StatusCodes.Status409Conflict, ErrorCodes.Conflict, "You cannot deactivate yourself.");
        }

        var hash = request.Password is { } password ? await passwords.HashAsync(password) : null;
        var updated = await grains.GetGrain<IAgentGrain>(Tenancy.Key(caller.Tenant, agentId))
            .Update(new AgentUpdate(displayName, request.Role, request.Capacity, hash, request.Active));
        if (updated.Error is { } error)
        {
            return Problems.From(error);
        }

        var teams = await grains.GetGrain<ITenantGrain>(caller.Tenant).ListTeams();
        var load = await LoadAsync(grains, caller.Tenant);
        return TypedResults.Ok(ToResponse(updated.Value!, teams, load?.GetValueOrDefault(agentId), caller.Tenant));
    }

    /// <summary>Deactivates the agent for good and hides it; its id stays taken (its messages name it).</summary>
    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string agentId, ClaimsPrincipal user, IGrainFactory grains)
    {
        var caller = user.ToCaller();
        if (!Tenancy.IsValidName(agentId))
        {
            return Problems.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "Agent was not found.");
        }

        if (agentId == caller.Id)
        {
            return Problems.Create(StatusCodes.Status409Conflict, ErrorCodes.Conflict, "You cannot delete yourself.");
        }

        var deleted = await grains.GetGrain<IAgentGrain>(Tenancy.Key(caller.Tenant, agentId)).Delete();
        return deleted.Error is { } error ? Problems.From(error) : TypedResults.NoContent();
    }

    private static async Task<Results<Ok<AgentListResponse>, ProblemHttpResult>> ListAsync(ClaimsPrincipal user, IGrainFactory grains)
    {
        var tenant = user.ToCaller().Tenant;
        var load = await LoadAsync(grains, tenant);
        if (load is null)
        {
            return Problems.Create(StatusCodes.Status503ServiceUnavailable, ErrorCodes.Unavailable, "Agent status is not available right now; retry.");
        }

        var agents = await grains.GetGrain<ITenantGrain>(tenant).ListAgents();
        var teams = await grains.GetGrain<ITenantGrain>(tenant).ListTeams();
        return TypedResults.Ok(new AgentListResponse([.. agents.Select(a => ToResponse(a, teams, load.GetValueOrDefault(a.AgentId), tenant))]));
    }

    private static async Task<Results<Ok<MeResponse>, ProblemHttpResult>> MeAsync(ClaimsPrincipal user, IGrainFactory grains)
    {
        var caller = user.ToCaller();
        var agent = grains.GetGrain<IAgentGrain>(Tenancy.Key(caller.Tenant, caller.Id));
        if (await agent.GetProfile() is not { } profile)
        {
            return Problems.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "Agent was not found.");
        }

        var status = await agent.GetStatus();
        var load = await LoadAsync(grains, caller.Tenant);
        if (load is null)
        {
            return Problems.Create(StatusCodes.Status503ServiceUnavailable, ErrorCodes.Unavailable, "Agent status is not available right now; retry.");
        }

        // Unread counts are live in the conversations (the directory is not written per message).
        var open = load.GetValueOrDefault(caller.Id)?.OpenConversations ?? [];
        var summaries = await Task.WhenAll(open.Select(id => grains.GetGrain<IConversationGrain>(Tenancy.Key(caller.Tenant, id)).GetSummary()));
        var unread = summaries.Sum(s => s?.UnreadFor(caller.ParticipantKey) ?? 0);
        return TypedResults.Ok(new MeResponse(
            profile.AgentId, profile.DisplayName, profile.Role, profile.CreatedAt.UtcDateTime, profile.Capacity,
            AgentStatusNames.Name(status), open.Length, unread, Avatars.AvatarsApi.Url(caller.Tenant, profile.AgentId, profile.AvatarVersion)));
    }

    private static async Task<Results<Ok<AgentStatusResponse>, ProblemHttpResult>> SetStatusAsync(
        AgentStatusRequest? request, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!AgentStatusNames.TryParseChosen(request?.Status, out var status))
        {
            return Problems.Invalid("status must be 'online' or 'away' (offline follows from your connections).");
        }

        var caller = user.ToCaller();
        var outcome = await grains.GetGrain<IAgentGrain>(Tenancy.Key(caller.Tenant, caller.Id)).SetStatus(status);
        return outcome.Error is { } error
            ? Problems.From(error)
            : TypedResults.Ok(new AgentStatusResponse(AgentStatusNames.Name(outcome.Value)));
    }

    private static async Task<Results<Ok<AgentPreferencesDto>, ProblemHttpResult>> GetPreferencesAsync(ClaimsPrincipal user, IGrainFactory grains)
    {
        var caller = user.ToCaller();
        return await grains.GetGrain<IAgentGrain>(Tenancy.Key(caller.Tenant, caller.Id)).GetPreferences() is { } preferences
            ? TypedResults.Ok(AgentPreferencesDto.From(preferences))
            : Problems.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "Agent was not found.");
    }

    /// <summary>Replaces the calling agent's preferences (an absent field is its default, not "unchanged").</summary>
    private static async Task<Results<Ok<AgentPreferencesDto>, ProblemHttpResult>> SetPreferencesAsync(
        AgentPreferencesDto? request, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (request is null)
        {
            return Problems.Invalid("Send the preferences as a JSON object.");
        }

        var preferences = new AgentPreferences(
            Blank(request.Language), Blank(request.Email), request.EmailNotifications ?? false, Blank(request.TimeZone));
        if (preferences.Validate() is { } problem)
        {
            return Problems.Invalid(problem);
        }

        var caller = user.ToCaller();
        var saved = await grains.GetGrain<IAgentGrain>(Tenancy.Key(caller.Tenant, caller.Id)).SetPreferences(preferences);
        return saved.Error is { } error ? Problems.From(error) : TypedResults.Ok(AgentPreferencesDto.From(saved.Value!));

        static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }

    /// <summary>Every agent's status and open conversations, from the tenant's dispatcher; null if it cannot answer.</summary>
    private static async Task<Dictionary<string, AgentLoad>?> LoadAsync(IGrainFactory grains, string tenant)
    {
        try
        {
            var snapshot = await grains.GetGrain<IDispatcherGrain>(tenant).GetSnapshot();
            return snapshot.Agents.ToDictionary(a => a.AgentId, StringComparer.Ordinal);
        }
        catch (Exception ex) when (ex is OrleansException or TimeoutException)
        {
            // The cluster did not answer: the caller gets 503 rather than a made-up status.
            return null;
        }
    }

    private static AgentResponse ToResponse(AgentProfile p, TeamConfig[] teams, AgentLoad? load, string tenant) => new(
        p.AgentId, p.DisplayName, p.Role, p.CreatedAt.UtcDateTime, p.Capacity,
        [.. teams.Where(t => t.AgentIds.Contains(p.AgentId)).Select(t => t.TeamId)],
        AgentStatusNames.Name(p.Deactivated ? AgentStatus.Offline : load?.Status ?? AgentStatus.Offline),
        load?.OpenConversations.Length ?? 0,
        Active: !p.Deactivated,
        AvatarUrl: Avatars.AvatarsApi.Url(tenant, p.AgentId, p.AvatarVersion));
}
