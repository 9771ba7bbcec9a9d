using System.Security.Claims;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kefu.Gateway.Api;

public static class ConversationsApi
{
    private static readonly string[] KnownStatuses = [ConversationStatus.Open, ConversationStatus.Resolved];

    public static IEndpointRouteBuilder MapConversationsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/conversations").WithTags("conversations");
        group.MapGet("/", ListAsync).RequireAuthorization(KefuPolicies.Agent);
        group.MapGet("/{conversationId}/messages", MessagesAsync).RequireAuthorization();
        return app;
    }

    private static async Task<Results<Ok<ConversationListResponse>, ProblemHttpResult>> ListAsync(
        ClaimsPrincipal user, IGrainFactory grains, string? status = null, int limit = 100)
    {
        if (status is not null && !KnownStatuses.Contains(status))
        {
            return Problems.Invalid($"status must be one of: {string.Join(", ", KnownStatuses)}.");
        }

        if (limit is < 1 or > 500)
        {
            return Problems.Invalid("limit must be between 1 and 500.");
        }

        var caller = user.ToCaller();
        var listed = await grains.GetGrain<ITenantGrain>(caller.Tenant)
            .ListConversations(new ConversationQuery(caller.Id, caller.IsAdmin, status, limit));

        // The directory is not updated per message: take live figures (lastSeq) from the conversations themselves.
        var live = await Task.WhenAll(listed.Select(c => grains.GetGrain<IConversationGrain>(Tenancy.Key(caller.Tenant, c.ConversationId)).GetSummary()));
        var conversations = live.Zip(listed, (fresh, known) => ConversationDto.From(fresh ?? known)).ToArray();
        return TypedResults.Ok(new ConversationListResponse(conversations));
    }

    private static async Task<Results<Ok<MessagesResponse>, ProblemHttpResult>> MessagesAsync(
        string conversationId, ClaimsPrincipal user, IGrainFactory grains, long after = 0, int limit = 100)
    {
        if (!Ulid.TryParse(conversationId, out _))
        {
            return Problems.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "Conversation was not found.");
        }

        if (after < 0 || limit is < 1 or > 500)
        {
            return Problems.Invalid("after must be >= 0 and limit between 1 and 500.");
        }

        var caller = user.ToCaller();
        var page = await grains.GetGrain<IConversationGrain>(Tenancy.Key(caller.Tenant, conversationId)).GetMessages(caller, after, limit);
        if (page.Error is { } error)
        {
            return Problems.From(error);
        }

        return TypedResults.Ok(new MessagesResponse([.. page.Value!.Messages.Select(MessageDto.From)], page.Value.LastSeq));
    }
}
