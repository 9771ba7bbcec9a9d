using System.Net.Mail;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Auth;
using Kefu.Gateway.WebSockets;
using Kefu.Grains.Conversations;
using Kefu.Grains.Tenants;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Kefu.Gateway.Api;

/// <summary>
/// What a website widget needs before it has a token: its inbox (by public key) and whether someone can answer now, and
/// the leave-a-message form for when nobody can. Anonymous and rate-limited per client address.
/// </summary>
public static class WidgetApi
{
    public const int MaxNameLength = 128;
    public const int MaxEmailLength = 254;

    /// <summary>The clientMsgId of the message a leave-a-message form stores.</summary>
    public const string LeftMessageId = "leave-a-message";

    public static IEndpointRouteBuilder MapWidgetApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/widget").WithTags("widget").AllowAnonymous();
        group.MapGet("/{publicKey}", GetAsync).RequireRateLimiting(RateLimits.Widget);
        group.MapPost("/{publicKey}/messages", LeaveMessageAsync).RequireRateLimiting(RateLimits.Visitors);
        return app;
    }

    /// <summary>The tenant and inbox a public key names; null when it names none (malformed, unknown, or deleted).</summary>
    internal static async Task<(string Tenant, InboxConfig Inbox)?> ResolveAsync(IGrainFactory grains, string publicKey)
    {
        if (!InboxKeys.IsWellFormed(publicKey) || await grains.GetGrain<IInboxKeyGrain>(publicKey).Resolve() is not { } target)
        {
            return null;
        }

        // The tenant grain is the truth: a key whose inbox is gone (or was re-created with another key) names nothing.
        var inbox = await grains.GetGrain<ITenantGrain>(target.Tenant).GetInbox(target.InboxId);
        return inbox is not null && inbox.PublicKey == publicKey ? (target.Tenant, inbox) : null;
    }

    internal static ProblemHttpResult UnknownKey() =>
        Problems.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "No inbox has this public key.");

    private static async Task<Results<Ok<WidgetResponse>, ProblemHttpResult>> GetAsync(string publicKey, IGrainFactory grains, TimeProvider time)
    {
        if (await ResolveAsync(grains, publicKey) is not var (tenant, inbox))
        {
            return UnknownKey();
        }

        var now = time.GetUtcNow();
        var withinHours = inbox.BusinessHours?.IsOpen(now) ?? true;
        var agentsOnline = await grains.GetGrain<IDispatcherGrain>(tenant).AnyAgentOnline(inbox.InboxId);
        // Outside the hours the widget says when the inbox opens again, in the inbox's time zone (issue #18).
        var nextOpening = withinHours ? null : inbox.BusinessHours?.NextOpening(now);
        return TypedResults.Ok(new WidgetResponse(
            tenant, inbox.InboxId, inbox.Name, withinHours && agentsOnline, withinHours, agentsOnline, inbox.AwayMessage, inbox.Greeting,
            inbox.PreChatForm, WidgetAppearanceDto.From(inbox.Appearance), nextOpening, inbox.BusinessHours?.TimeZone));
    }

    private static async Task<Results<Created<LeaveMessageResponse>, ProblemHttpResult>> LeaveMessageAsync(
        string publicKey, LeaveMessageRequest? request, IGrainFactory grains, TimeProvider time, TokenService tokens,
        IOptions<KefuWebSocketOptions> options)
    {
        var name = request?.Name?.Trim();
        var email = request?.Email?.Trim();
        var maxText = options.Value.MaxTextLength;
        if (name is not { Length: >= 1 and <= MaxNameLength })
        {
            return Problems.Invalid(DefaultTexts.LeftMessageName(request?.Locale, MaxNameLength));
        }

        if (!IsEmail(email))
        {
            return Problems.Invalid(DefaultTexts.LeftMessageEmail(request?.Locale));
        }

        if (string.IsNullOrWhiteSpace(request!.Text) || request.Text.Length > maxText)
        {
            return Problems.Invalid(DefaultTexts.LeftMessageText(request?.Locale, maxText));
        }

        if (await ResolveAsync(grains, publicKey) is not var (tenant, inbox))
        {
            return UnknownKey();
        }

        // A visitor like any other (name and email on its profile, for the agents), whose first message starts (and
        // queues) its conversation. The widget keeps the token, so the visitor comes back to the conversation and its reply.
        var attributes = VisitorLocale.Attributes(request.Locale);
        var visitorId = await VisitorsApi.RegisterAsync(grains, time, tenant, inbox.InboxId, name, email, attributes);
        var conversationId = await grains.GetGrain<IVisitorGrain>(Tenancy.Key(tenant, visitorId)).GetOrStartConversation();
        var caller = new Caller(tenant, ParticipantRole.Visitor, visitorId, name, IsAdmin: false);
        var hooked = await grains.GetGrain<IBeforeMessageHookGrain>(tenant).Run(new BeforeMessageInput(conversationId, inbox.InboxId, request.Text, visitorId));
        if (hooked.Refused)
        {
            return Problems.From(new KefuError(ErrorCodes.Refused, hooked.Reason!)); // 422: a tenant's plugin refused it
        }

        var sent = await grains.GetGrain<IConversationGrain>(Tenancy.Key(tenant, conversationId))
            .Send(new SendMessage(caller, LeftMessageId, hooked.Text, null, TextContent.Instance)); // typed text: never read as an attachment reference
        if (sent.Error is { } error)
        {
            return Problems.From(error);
        }

        var (token, expiresAt) = tokens.IssueVisitorToken(tenant, visitorId, name);
        return TypedResults.Created($"/api/v1/conversations/{conversationId}", new LeaveMessageResponse(conversationId, visitorId, token, expiresAt));
    }

    private static bool IsEmail(string? value) =>
        value is { Length: >= 3 and <= MaxEmailLength }
        && MailAddress.TryCreate(value, out var address)
        && address.Address == value
        && address.Host.Contains('.', StringComparison.Ordinal);
}
