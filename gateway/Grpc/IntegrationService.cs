using Grpc.Core;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Integration;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Api;
using Kefu.Gateway.Auth;
using Kefu.Gateway.WebSockets;
using Kefu.Grains.Inbound;
using Microsoft.Extensions.Options;

namespace Kefu.Gateway.Grpc;

/// <summary>
/// <c>kefu.integration.v1.Integration</c> (contracts/Protos/kefu_integration.proto, docs/integration.md §16): the REST
/// integration calls over gRPC, with the same grains, rules, scopes and error codes — <c>Publish</c> as
/// <c>POST /api/v1/webhook</c>, <c>SendMessage</c> as <c>POST /api/v1/conversations/{id}/messages</c>, <c>Subscribe</c> as
/// <c>GET /api/v1/events</c> followed live (<see cref="EventSubscriber"/>).
/// </summary>
public sealed class IntegrationService(
    IGrainFactory grains,
    GrpcCallAuth auth,
    EventTails tails,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    IOptions<KefuGrpcOptions> options) : Integration.IntegrationBase
{
    public override async Task<PublishResponse> Publish(PublishRequest request, ServerCallContext context)
    {
        var user = await auth.RequireAsync(context, Scopes.EventsWrite);
        var allowed = user.IsServiceKey() ? user.FindAll(KefuClaims.Inbox).Select(c => c.Value).ToArray() : null;
        var (inbound, error) = InboundParser.Parse(request.Event, allowed);
        if (error is not null)
        {
            throw GrpcErrors.From(error);
        }

        // The call's deadline bounds the routes the event triggers, as Kefu-Timeout-Ms does on HTTP.
        var caller = user.ToCaller();
        var accepted = inbound! with { Timeout = Remaining(context) };
        var outcome = await grains.GetGrain<IInboundEventGrain>(Tenancy.Key(caller.Tenant, accepted.SourceId))
            .Accept(accepted, caller)
            .WaitAsync(context.CancellationToken);
        if (outcome.Error is { } refused)
        {
            throw GrpcErrors.From(refused);
        }

        var ack = outcome.Value!;
        var response = new PublishResponse { EventId = ack.EventId, Replayed = ack.Replayed };
        if (ack.ConversationId is { } conversationId && Ulid.TryParse(conversationId, out var conversation))
        {
            response.ConversationId = ProtoValues.Ulid(conversation);
        }

        if (ack.ContactId is { } contactId)
        {
            response.ContactId = contactId;
        }

        return response;
    }

    public override async Task<SendMessageResponse> SendMessage(SendMessageRequest request, ServerCallContext context)
    {
        var user = await auth.RequireAsync(context, Scopes.MessagesWrite);
        if (!ProtoValues.TryReadUlid(request.ConversationId, out var conversationId))
        {
            throw GrpcErrors.Create(StatusCode.InvalidArgument, ErrorCodes.InvalidField, "conversation_id must be a 16-byte ULID.");
        }

        if (request.Text.Length == 0)
        {
            throw GrpcErrors.Create(StatusCode.InvalidArgument, ErrorCodes.MissingField, "text is required.");
        }

        if (request.ClientMsgId.Length is 0 or > IntegrationMessagesApi.MaxClientMsgIdLength)
        {
            throw GrpcErrors.Create(StatusCode.InvalidArgument, request.ClientMsgId.Length == 0 ? ErrorCodes.MissingField : ErrorCodes.InvalidField,
                $"client_msg_id must be 1 to {IntegrationMessagesApi.MaxClientMsgIdLength} characters.");
        }

        string? senderName = null;
        if (request.HasSenderName)
        {
            if (request.SenderName.Length is 0 or > IntegrationMessagesApi.MaxSenderNameLength)
            {
                throw GrpcErrors.Create(StatusCode.InvalidArgument, ErrorCodes.InvalidField,
                    $"sender_name must be 1 to {IntegrationMessagesApi.MaxSenderNameLength} characters.");
            }

            senderName = request.SenderName;
        }

        var caller = user.ToCaller();
        var bot = caller.IsServiceKey
            ? caller with { Name = senderName ?? caller.Name }
            : new Caller(caller.Tenant, ParticipantRole.Bot, caller.Id, senderName ?? caller.Name, IsAdmin: false);
        var conversation = grains.GetGrain<IConversationGrain>(Tenancy.Key(caller.Tenant, conversationId!));
        if (user.IsServiceKey() && user.FindFirst(KefuClaims.Inbox) is not null)
        {
            // A key restricted to inboxes: only their conversations (an extra read, for those keys only).
            var summary = await conversation.GetSummary().WaitAsync(context.CancellationToken);
            if (summary is null)
            {
                throw GrpcErrors.From(KefuError.NotFound("Conversation"));
            }

            if (!user.AllowsInbox(summary.Inbox))
            {
                throw GrpcErrors.From(KefuError.NotAllowed("This key may not act in the conversation's inbox."));
            }
        }

        // The call's token ends with its deadline: the grain call is cancelled with it.
        var outcome = await conversation.Send(new SendMessage(bot, request.ClientMsgId, request.Text, ConnectionId: null), context.CancellationToken);
        if (outcome.Error is { } error)
        {
            throw GrpcErrors.From(error);
        }

        var ack = outcome.Value!;
        var message = new ChatMessage(ack.ConversationId, ack.MessageId, ack.Seq, bot.AsSender(), request.Text, ack.Ts, ack.ClientMsgId);
        return new SendMessageResponse { Message = ProtobufFrameWriter.ToProto(message) };
    }

    public override async Task Subscribe(SubscribeRequest request, IServerStreamWriter<SubscribeResponse> responseStream, ServerCallContext context)
    {
        var user = await auth.RequireAsync(context, Scopes.EventsRead);
        long? after = null;
        if (request.After.Length > 0)
        {
            if (!EventCursor.TryParse(request.After, out var cursor))
            {
                throw GrpcErrors.Create(StatusCode.InvalidArgument, EventsApi.InvalidCursor,
                    "after must be a cursor from an earlier event, CaughtUp or Heartbeat (16 lower-case hex digits).");
            }

            after = cursor;
        }

        string[]? types = null;
        if (request.Types_.Count > 0)
        {
            if (request.Types_.FirstOrDefault(t => !EventTypes.IsKnown(t)) is { } unknown)
            {
                throw GrpcErrors.Create(StatusCode.InvalidArgument, ErrorCodes.InvalidField,
                    $"Unknown event type '{unknown}'; known types: {string.Join(", ", EventTypes.All)} (and custom.*).");
            }

            types = [.. request.Types_.Distinct(StringComparer.Ordinal)];
        }

        var subscriber = new EventSubscriber(grains, tails, time, user.ToCaller().Tenant, types, options.Value);

        // A stream never ends by itself: when the gateway stops, it ends at once (UNAVAILABLE, resume elsewhere or later)
        // instead of holding Kestrel's drain until the shutdown timeout.
        using var stream = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        var token = stream.Token;
        try
        {
            await subscriber.RunAsync(after, message => responseStream.WriteAsync(message, token), token);
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            throw GrpcErrors.Create(StatusCode.Unavailable, ErrorCodes.Unavailable,
                "The gateway is shutting down; subscribe again after the last cursor you received.");
        }
        catch (Exception) when (context.CancellationToken.IsCancellationRequested)
        {
            // The client left or the deadline passed (a write then fails in more ways than one): the server already
            // ends the call with that status, and there is nobody to tell more.
        }
    }

    /// <summary>Time left before the call's deadline; null without one. A deadline already past ends the call here.</summary>
    private TimeSpan? Remaining(ServerCallContext context)
    {
        if (context.Deadline == DateTime.MaxValue)
        {
            return null;
        }

        var left = context.Deadline - time.GetUtcNow().UtcDateTime;
        if (left <= TimeSpan.Zero)
        {
            throw GrpcErrors.Create(StatusCode.DeadlineExceeded, ErrorCodes.Unavailable, "The call's deadline passed.");
        }

        return left < TimeSpan.FromMilliseconds(InboundApi.MaxTimeoutMs) ? left : TimeSpan.FromMilliseconds(InboundApi.MaxTimeoutMs);
    }
}
