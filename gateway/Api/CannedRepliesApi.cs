using System.Security.Claims;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Auth;
using Kefu.Grains.Tenants;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kefu.Gateway.Api;

/// <summary>Canned replies (shortcut → text): every agent reads them, admins change them.</summary>
public static class CannedRepliesApi
{
    public static IEndpointRouteBuilder MapCannedRepliesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/canned-replies").WithTags("canned replies");
        group.MapGet("/", ListAsync).RequireAuthorization(KefuPolicies.Agent);
        group.MapPost("/", CreateAsync).RequireAuthorization(KefuPolicies.Admin);
        group.MapPut("/{id}", PutAsync).RequireAuthorization(KefuPolicies.Admin);
        group.MapDelete("/{id}", DeleteAsync).RequireAuthorization(KefuPolicies.Admin);
        return app;
    }

    private static async Task<Ok<CannedReplyListResponse>> ListAsync(ClaimsPrincipal user, IGrainFactory grains)
    {
        var replies = await grains.GetGrain<ITenantGrain>(user.ToCaller().Tenant).ListCannedReplies();
        return TypedResults.Ok(new CannedReplyListResponse([.. replies.Select(CannedReplyDto.From)]));
    }

    private static async Task<Results<Created<CannedReplyDto>, ProblemHttpResult>> CreateAsync(
        CannedReplyRequest? request, ClaimsPrincipal user, IGrainFactory grains)
    {
        var outcome = await grains.GetGrain<ITenantGrain>(user.ToCaller().Tenant)
            .PutCannedReply(new CannedReply(string.Empty, request?.Shortcut ?? string.Empty, request?.Text ?? string.Empty));
        return outcome.Error is { } error
            ? Problems.From(error)
            : TypedResults.Created($"/api/v1/canned-replies/{outcome.Value!.Id}", CannedReplyDto.From(outcome.Value));
    }

    private static async Task<Results<Ok<CannedReplyDto>, ProblemHttpResult>> PutAsync(
        string id, CannedReplyRequest? request, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!TenantConfigRules.IsReplyId(id))
        {
            return Problems.Invalid("id must be 1-64 characters: A-Z, a-z, 0-9, '-', '_'.");
        }

        var outcome = await grains.GetGrain<ITenantGrain>(user.ToCaller().Tenant)
            .PutCannedReply(new CannedReply(id, request?.Shortcut ?? string.Empty, request?.Text ?? string.Empty));
        return outcome.Error is { } error ? Problems.From(error) : TypedResults.Ok(CannedReplyDto.From(outcome.Value!));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!TenantConfigRules.IsReplyId(id))
        {
            return Problems.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "Canned reply was not found.");
        }

        var outcome = await grains.GetGrain<ITenantGrain>(user.ToCaller().Tenant).DeleteCannedReply(id);
        return outcome.Error is { } error ? Problems.From(error) : TypedResults.NoContent();
    }
}
