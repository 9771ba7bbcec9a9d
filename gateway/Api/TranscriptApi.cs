using System.Security.Claims;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Auth;
using Kefu.Grains.Email;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kefu.Gateway.Api;

public sealed record TranscriptRequest(string? Email);

public sealed record TranscriptResponse(string MailId, string To);

/// <summary>
/// The widget's "email me the transcript" (docs/email.md): the conversation's visitor asks, the transcript is mailed
/// (accepted: 202; the mail goes out in the background and its outcome shows as email.sent / email.failed). Rate-limited
/// per client address and, in the conversation's mail thread, to one request per <c>Kefu:Mail:TranscriptInterval</c>.
/// </summary>
public static class TranscriptApi
{
    public static IEndpointRouteBuilder MapTranscriptApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/conversations/{conversationId}/transcript", RequestAsync)
            .WithTags("conversations")
            .WithSummary("Mail the conversation's transcript to its visitor (visitor token)")
            .RequireAuthorization()
            .RequireRateLimiting(RateLimits.Visitors);
        return app;
    }

    private static async Task<Results<Accepted<TranscriptResponse>, ProblemHttpResult>> RequestAsync(
        string conversationId, TranscriptRequest? request, ClaimsPrincipal user, IGrainFactory grains, IConfiguration configuration)
    {
        var caller = user.ToCaller();
        if (caller.Role != ParticipantRole.Visitor)
        {
            return Problems.Create(StatusCodes.Status403Forbidden, ErrorCodes.NotAllowed, "Only the conversation's visitor asks for its transcript.");
        }

        var email = request?.Email?.Trim();
        if (email is { Length: 0 })
        {
            email = null;
        }

        if (email is not null && !AgentPreferences.IsEmailAddress(email))
        {
            return Problems.Invalid($"email must be an address like name@example.com (at most {AgentPreferences.MaxEmailLength} characters).");
        }

        var key = Tenancy.Key(caller.Tenant, conversationId);
        if (!Ulid.TryParse(conversationId, out _)
            || await grains.GetGrain<IConversationGrain>(key).GetSummary() is not { } summary
            || summary.VisitorId != caller.Id)
        {
            return Problems.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "Conversation was not found.");
        }

        var mail = configuration.GetSection(MailOptions.Section).Get<MailOptions>() ?? new MailOptions();
        if (!mail.SendingEnabled)
        {
            return Problems.Create(StatusCodes.Status503ServiceUnavailable, ErrorCodes.Unavailable, "This server does not send email.");
        }

        var outcome = await grains.GetGrain<IMailThreadGrain>(key).RequestTranscript(email);
        if (outcome.Error is { } error)
        {
            return error.Code == ErrorCodes.RateLimited
                ? Problems.Create(StatusCodes.Status429TooManyRequests, error.Code, error.Message)
                : Problems.From(error);
        }

        var view = await grains.GetGrain<IOutboundMailControl>(MailIds.Key(caller.Tenant, outcome.Value!)).Get();
        return TypedResults.Accepted($"/api/v1/conversations/{conversationId}/transcript", new TranscriptResponse(outcome.Value!, view?.To ?? email ?? ""));
    }
}
