using System.Security.Claims;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Auth;

namespace Kefu.Gateway.Api;

/// <summary>
/// <c>POST /api/v1/conversations/{id}/messages</c> (INTEGRATION.md §4, docs/integration.md §9): a bot or business system
/// writes into a conversation. The message is sent by the conversation grain like a WebSocket <c>send</c> (same rules,
/// deduplicated by <c>clientMsgId</c>, delivered live to everyone in the conversation) with sender role <c>bot</c>: a key
/// sends as itself (the request may name the bot), an admin as a bot named after the request or themself.
/// </summary>
public static class IntegrationMessagesApi
{
    /// <summary>
    /// Room for the longest text the conversation accepts (<c>Kefu:Conversations:MaxTextLength</c>, 65 536 characters by
    /// default) even JSON-escaped; a longer text within this is refused as text_too_long by the conversation's rules.
    /// </summary>
    public const int MaxBodyBytes = 512 * 1024;

    public const int MaxClientMsgIdLength = 64;
    public const int MaxSenderNameLength = 100;

    public static IEndpointRouteBuilder MapIntegrationMessagesApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/conversations/{conversationId}/messages", SendAsync)
            .WithTags("conversations")
            .Produces<MessageDto>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .RequireAuthorization(KefuPolicies.ForScope(Scopes.MessagesWrite))
            .WithIdempotencyKey();
        return app;
    }

    private static async Task<IResult> SendAsync(string conversationId, HttpRequest request, ClaimsPrincipal user, IGrainFactory grains, CancellationToken cancellationToken)
    {
        var (body, tooLarge) = await JsonBody.ReadAsync(request, MaxBodyBytes, cancellationToken);
        if (tooLarge is not null)
        {
            return tooLarge;
        }

        var (document, invalid) = JsonBody.ParseObject(body!);
        if (invalid is not null)
        {
            return invalid;
        }

        using (document)
        {
            var root = document!.RootElement;
            var (text, problem) = JsonBody.Text(root, "text", int.MaxValue, required: true);
            if (problem is not null)
            {
                return problem;
            }

            string? clientMsgId;
            (clientMsgId, problem) = JsonBody.Text(root, "clientMsgId", MaxClientMsgIdLength, required: true);
            if (problem is not null)
            {
                return problem;
            }

            string? senderName = null;
            if (root.TryGetProperty("sender", out var sender) && sender.ValueKind != System.Text.Json.JsonValueKind.Null)
            {
                if (sender.ValueKind != System.Text.Json.JsonValueKind.Object)
                {
                    return Problems.Invalid("sender must be an object: {\"name\"}.");
                }

                (senderName, problem) = JsonBody.Text(sender, "name", MaxSenderNameLength, required: false, "sender.name");
                if (problem is not null)
                {
                    return problem;
                }
            }

            // Conversation ids are ULIDs: anything else names no conversation, and activates no grain.
            if (!Ulid.TryParse(conversationId, out _))
            {
                return Problems.From(KefuError.NotFound("Conversation"));
            }

            var caller = user.ToCaller();
            var bot = caller.IsServiceKey
                ? caller with { Name = senderName ?? caller.Name }
                : new Caller(caller.Tenant, ParticipantRole.Bot, caller.Id, senderName ?? caller.Name, IsAdmin: false);
            var conversation = grains.GetGrain<IConversationGrain>(Tenancy.Key(caller.Tenant, conversationId));
            if (user.IsServiceKey() && user.FindFirst(KefuClaims.Inbox) is not null)
            {
                // A key restricted to inboxes: only their conversations (an extra read, for those keys only).
                var summary = await conversation.GetSummary();
                if (summary is null)
                {
                    return Problems.From(KefuError.NotFound("Conversation"));
                }

                if (!user.AllowsInbox(summary.Inbox))
                {
                    return Problems.From(KefuError.NotAllowed("This key may not act in the conversation's inbox."));
                }
            }

            var outcome = await conversation.Send(new SendMessage(bot, clientMsgId!, text!, ConnectionId: null));
            if (outcome.Error is { } error)
            {
                return Problems.From(error);
            }

            var ack = outcome.Value!;
            var message = new ChatMessage(ack.ConversationId, ack.MessageId, ack.Seq, bot.AsSender(), text!, ack.Ts, ack.ClientMsgId);
            return TypedResults.Created($"/api/v1/conversations/{conversationId}/messages/{ack.MessageId}", MessageDto.From(message));
        }
    }
}
