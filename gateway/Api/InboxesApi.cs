using System.Security.Claims;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kefu.Gateway.Api;

/// <summary>Inboxes (one per website widget): every agent sees them, admins change them.</summary>
public static class InboxesApi
{
    public static IEndpointRouteBuilder MapInboxesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/inboxes").WithTags("inboxes");
        group.MapGet("/", ListAsync).RequireAuthorization(KefuPolicies.Agent);
        group.MapPut("/{inboxId}", PutAsync).RequireAuthorization(KefuPolicies.Admin);
        group.MapDelete("/{inboxId}", DeleteAsync).RequireAuthorization(KefuPolicies.Admin);
        group.MapPost("/{inboxId}/rotate-identity-secret", RotateIdentitySecretAsync).RequireAuthorization(KefuPolicies.Admin);
        return app;
    }

    private static async Task<Ok<InboxListResponse>> ListAsync(ClaimsPrincipal user, IGrainFactory grains)
    {
        var caller = user.ToCaller();
        var inboxes = await grains.GetGrain<ITenantGrain>(caller.Tenant).ListInboxes();
        return TypedResults.Ok(new InboxListResponse([.. inboxes.Select(i => InboxDto.From(i, withSecret: caller.IsAdmin))]));
    }

    private static async Task<Results<Ok<InboxDto>, ProblemHttpResult>> PutAsync(
        string inboxId, InboxRequest? request, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!Tenancy.IsValidName(inboxId))
        {
            return Problems.Invalid("inbox id must be 1-64 characters: a-z, 0-9, '-', '_', '.'.");
        }

        if (request?.Name is null)
        {
            return Problems.Invalid("name is required.");
        }

        BusinessHours? hours = null;
        if (request.BusinessHours is { } json)
        {
            var parsed = BusinessHoursJson.Parse(json);
            if (parsed.Error is { } invalid)
            {
                return Problems.From(invalid);
            }

            hours = parsed.Value;
        }

        // The public key is the tenant grain's to make (new inbox) or keep (update).
        var inbox = new InboxConfig(
            inboxId, request.Name, string.Empty, request.AssignmentPolicy ?? AssignmentPolicies.LeastBusy, request.MaxOpen,
            request.Teams ?? [], hours, request.AwayMessage, request.Greeting, request.PreChatForm ?? false,
            Appearance: request.Appearance?.ToConfig(), Email: request.Email?.ToSettings());
        var outcome = await grains.GetGrain<ITenantGrain>(user.ToCaller().Tenant).PutInbox(inbox);
        return outcome.Error is { } error ? Problems.From(error) : TypedResults.Ok(InboxDto.From(outcome.Value!, withSecret: true));
    }

    /// <summary>A new identity secret for widget identification (issue #14); the old one stops at once.</summary>
    private static async Task<Results<Ok<InboxDto>, ProblemHttpResult>> RotateIdentitySecretAsync(string inboxId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!Tenancy.IsValidName(inboxId))
        {
            return Problems.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "Inbox was not found.");
        }

        var outcome = await grains.GetGrain<ITenantGrain>(user.ToCaller().Tenant).RotateIdentitySecret(inboxId);
        return outcome.Error is { } error ? Problems.From(error) : TypedResults.Ok(InboxDto.From(outcome.Value!, withSecret: true));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string inboxId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!Tenancy.IsValidName(inboxId))
        {
            return Problems.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "Inbox was not found.");
        }

        var outcome = await grains.GetGrain<ITenantGrain>(user.ToCaller().Tenant).DeleteInbox(inboxId);
        return outcome.Error is { } error ? Problems.From(error) : TypedResults.NoContent();
    }
}
