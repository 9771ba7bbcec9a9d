using System.Security.Claims;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Auth;
using Kefu.Grains.Directory;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kefu.Gateway.Api;

/// <summary>Conversations: the list, history, and what agents (and, for CSAT, visitors) do with one.</summary>
public static class ConversationsApi
{
    public static IEndpointRouteBuilder MapConversationsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/conversations").WithTags("conversations");
        // Service keys (INTEGRATION.md §1) read with conversations:read and change status, assignee and labels with
        // conversations:write, within the inboxes they are restricted to; notes, read marks and CSAT stay with people.
        group.MapGet("/", ListAsync).RequireAuthorization(ApiKeyPolicies.AgentsOr(Scopes.ConversationsRead));
        group.MapGet("/{conversationId}", GetAsync).RequireAuthorization(ApiKeyPolicies.PeopleOr(Scopes.ConversationsRead));
        group.MapGet("/{conversationId}/messages", MessagesAsync).RequireAuthorization(ApiKeyPolicies.PeopleOr(Scopes.ConversationsRead));
        group.MapPost("/{conversationId}/status", ChangeStatusAsync).RequireAuthorization(ApiKeyPolicies.AgentsOr(Scopes.ConversationsWrite));
        group.MapPost("/{conversationId}/transfer", TransferAsync).RequireAuthorization(ApiKeyPolicies.AgentsOr(Scopes.ConversationsWrite));
        group.MapPatch("/{conversationId}", LabelAsync).RequireAuthorization(ApiKeyPolicies.AgentsOr(Scopes.ConversationsWrite));
        group.MapGet("/{conversationId}/notes", NotesAsync).RequireAuthorization(KefuPolicies.Agent);
        group.MapPost("/{conversationId}/notes", AddNoteAsync).RequireAuthorization(KefuPolicies.Agent);
        group.MapPost("/{conversationId}/csat", RateAsync).RequireAuthorization();
        group.MapReadMarks();
        app.MapGet("/api/v1/queue", QueueAsync).WithTags("conversations").RequireAuthorization(KefuPolicies.Agent);
        return app;
    }

    private static async Task<Results<Ok<ConversationListResponse>, ProblemHttpResult>> ListAsync(
        ClaimsPrincipal user, IGrainFactory grains, string? status = null,
        string? assignee = null, string? team = null, string? inbox = null, int limit = 100)
    {
        if (status is not null && !ConversationStatus.IsKnown(status))
        {
            return Problems.Invalid($"status must be one of: {string.Join(", ", ConversationStatus.All)}.");
        }

        if (limit is < 1 or > 500)
        {
            return Problems.Invalid("limit must be between 1 and 500.");
        }

        var caller = user.ToCaller();
        string? assigneeId = null;
        var unassignedOnly = false;
        switch (assignee)
        {
            case null:
                break;
            case "me":
                assigneeId = caller.Id;
                break;
            case "unassigned":
                unassignedOnly = true;
                break;
            default:
                if (!Tenancy.IsValidName(assignee))
                {
                    return Problems.Invalid("assignee must be 'me', 'unassigned' or an agent id.");
                }

                assigneeId = assignee;
                break;
        }

        if ((team is not null && !Tenancy.IsValidName(team)) || (inbox is not null && !Tenancy.IsValidName(inbox)))
        {
            return Problems.Invalid("team and inbox must be valid ids: a-z, 0-9, '-', '_', '.'.");
        }

        // The directory alone answers, in list order: its rows hold everything the list shows (their per-message
        // figures follow the messages within about a second), so listing never wakes the listed conversations. The
        // read goes through a stateless worker on the silos: gateways never talk to the database.
        // A key sees the tenant's conversations as an admin does, but only in the inboxes it is restricted to (one
        // ordered read per inbox, merged in list order).
        var directory = grains.GetGrain<IConversationDirectoryGrain>(caller.Tenant);
        var query = new ConversationQuery(caller.Id, caller.IsAdmin || caller.IsServiceKey, status, limit, assigneeId, unassignedOnly, team, inbox);
        var restrictedTo = user.FindAll(KefuClaims.Inbox).Select(c => c.Value).ToArray();
        IEnumerable<ConversationSummary> listed;
        if (!caller.IsServiceKey || restrictedTo.Length == 0)
        {
            listed = await directory.List(query);
        }
        else if (inbox is not null)
        {
            listed = user.AllowsInbox(inbox) ? await directory.List(query) : [];
        }
        else
        {
            var perInbox = await Task.WhenAll(restrictedTo.Select(i => directory.List(query with { Inbox = i })));
            listed = perInbox.SelectMany(page => page).InListOrder().Take(limit);
        }

        return TypedResults.Ok(new ConversationListResponse([.. listed.Select(c => ConversationDto.From(c, caller.ParticipantKey))]));
    }

    private static async Task<Results<Ok<ConversationDto>, ProblemHttpResult>> GetAsync(string conversationId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!Ulid.TryParse(conversationId, out _))
        {
            return NotFound();
        }

        var caller = user.ToCaller();
        var summary = await Conversation(grains, caller, conversationId).GetSummary();
        if (summary is null)
        {
            return NotFound();
        }

        return caller.Role switch
        {
            ParticipantRole.Visitor when summary.VisitorId == caller.Id => TypedResults.Ok(ConversationDto.From(summary, caller.ParticipantKey).ForVisitor()),
            ParticipantRole.Agent when summary.IsVisibleTo(caller.Id, caller.IsAdmin) => TypedResults.Ok(ConversationDto.From(summary, caller.ParticipantKey)),
            ParticipantRole.Agent => Problems.Create(StatusCodes.Status403Forbidden, ErrorCodes.NotAllowed, "This conversation is assigned to another agent."),
            _ when caller.IsServiceKey && user.AllowsInbox(summary.Inbox) => TypedResults.Ok(ConversationDto.From(summary, caller.ParticipantKey)),
            _ => NotFound(),
        };
    }

    private static async Task<Results<Ok<MessagesResponse>, ProblemHttpResult>> MessagesAsync(
        string conversationId, ClaimsPrincipal user, IGrainFactory grains, long after = 0, int limit = 100)
    {
        if (!Ulid.TryParse(conversationId, out _))
        {
            return NotFound();
        }

        if (after < 0 || limit is < 1 or > 500)
        {
            return Problems.Invalid("after must be >= 0 and limit between 1 and 500.");
        }

        var caller = user.ToCaller();
        if (!await KeyReachesAsync(user, Conversation(grains, caller, conversationId)))
        {
            return NotFound();
        }

        var page = await Conversation(grains, caller, conversationId).GetMessages(caller, after, limit);
        if (page.Error is { } error)
        {
            return Problems.From(error);
        }

        return TypedResults.Ok(new MessagesResponse([.. page.Value!.Messages.Select(MessageDto.From)], page.Value.LastSeq));
    }

    private static async Task<Results<Ok<ConversationDto>, ProblemHttpResult>> ChangeStatusAsync(
        string conversationId, ChangeStatusRequest? request, ClaimsPrincipal user, IGrainFactory grains, TimeProvider time)
    {
        if (!Ulid.TryParse(conversationId, out _))
        {
            return NotFound();
        }

        if (request?.Status is not { } status || !ConversationStatus.IsKnown(status) || status == ConversationStatus.Queued)
        {
            return Problems.Invalid("status must be one of: open, pending, snoozed, resolved.");
        }

        if (status == ConversationStatus.Snoozed && (request.SnoozedUntil is not { } until || until <= time.GetUtcNow()))
        {
            return Problems.Invalid("snoozed needs a 'snoozedUntil' time in the future.");
        }

        if (status != ConversationStatus.Snoozed && request.SnoozedUntil is not null)
        {
            return Problems.Invalid("snoozedUntil is only for status 'snoozed'.");
        }

        var caller = user.ToCaller();
        if (!await KeyReachesAsync(user, Conversation(grains, caller, conversationId)))
        {
            return NotFound();
        }

        return Answer(await Conversation(grains, caller, conversationId).ChangeStatus(caller, status, request.SnoozedUntil), caller);
    }

    private static async Task<Results<Ok<ConversationDto>, ProblemHttpResult>> TransferAsync(
        string conversationId, TransferRequest? request, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!Ulid.TryParse(conversationId, out _))
        {
            return NotFound();
        }

        if (request is null || (request.AgentId is null) == (request.TeamId is null))
        {
            return Problems.Invalid("Give exactly one of 'agentId' and 'teamId'.");
        }

        if (!Tenancy.IsValidName(request.AgentId ?? request.TeamId))
        {
            return Problems.Invalid("agentId or teamId is not a valid id.");
        }

        var caller = user.ToCaller();
        if (!await KeyReachesAsync(user, Conversation(grains, caller, conversationId)))
        {
            return NotFound();
        }

        return Answer(await Conversation(grains, caller, conversationId).Transfer(caller, request.AgentId, request.TeamId), caller);
    }

    private static async Task<Results<Ok<ConversationDto>, ProblemHttpResult>> LabelAsync(
        string conversationId, LabelRequest? request, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!Ulid.TryParse(conversationId, out _))
        {
            return NotFound();
        }

        if (request is null || (request.Tags is null && request.Priority is null))
        {
            return Problems.Invalid("Give 'tags' and/or 'priority'.");
        }

        if (request.Priority is not null && !ConversationPriority.IsKnown(request.Priority))
        {
            return Problems.Invalid($"priority must be one of: {string.Join(", ", ConversationPriority.All)}.");
        }

        var caller = user.ToCaller();
        if (!await KeyReachesAsync(user, Conversation(grains, caller, conversationId)))
        {
            return NotFound();
        }

        return Answer(await Conversation(grains, caller, conversationId).Label(caller, request.Tags, request.Priority), caller);
    }

    private static async Task<Results<Ok<NoteListResponse>, ProblemHttpResult>> NotesAsync(string conversationId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!Ulid.TryParse(conversationId, out _))
        {
            return NotFound();
        }

        var caller = user.ToCaller();
        var notes = await Conversation(grains, caller, conversationId).GetNotes(caller);
        return notes.Error is { } error
            ? Problems.From(error)
            : TypedResults.Ok(new NoteListResponse([.. notes.Value!.Select(NoteDto.From)]));
    }

    private static async Task<Results<Created<NoteDto>, ProblemHttpResult>> AddNoteAsync(
        string conversationId, NoteRequest? request, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!Ulid.TryParse(conversationId, out _))
        {
            return NotFound();
        }

        if (string.IsNullOrWhiteSpace(request?.Text))
        {
            return Problems.Invalid("text must not be empty.");
        }

        var caller = user.ToCaller();
        var note = await Conversation(grains, caller, conversationId).AddNote(caller, request.Text);
        return note.Error is { } error
            ? Problems.From(error)
            : TypedResults.Created($"/api/v1/conversations/{conversationId}/notes/{note.Value!.NoteId}", NoteDto.From(note.Value));
    }

    private static async Task<Results<Ok<ConversationDto>, ProblemHttpResult>> RateAsync(
        string conversationId, CsatRequest? request, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!Ulid.TryParse(conversationId, out _))
        {
            return NotFound();
        }

        var caller = user.ToCaller();
        if (caller.Role != ParticipantRole.Visitor)
        {
            return Problems.Create(StatusCodes.Status403Forbidden, ErrorCodes.NotAllowed, "Only the visitor rates a conversation.");
        }

        if (request?.Rating is not (>= 1 and <= 5))
        {
            return Problems.Invalid("rating must be a whole number from 1 to 5.");
        }

        if (request.Comment is { Length: > 1000 })
        {
            return Problems.Invalid("comment must be at most 1000 characters.");
        }

        return Answer(await Conversation(grains, caller, conversationId).Rate(caller, request.Rating.Value, request.Comment), caller);
    }

    private static async Task<Ok<QueueResponse>> QueueAsync(ClaimsPrincipal user, IGrainFactory grains)
    {
        var snapshot = await grains.GetGrain<IDispatcherGrain>(user.ToCaller().Tenant).GetSnapshot();
        return TypedResults.Ok(new QueueResponse([.. snapshot.Waiting.Select(QueueEntryDto.From)], [.. snapshot.Agents.Select(AgentLoadDto.From)]));
    }

    private static Results<Ok<ConversationDto>, ProblemHttpResult> Answer(Outcome<ConversationSummary> outcome, Caller caller)
    {
        if (outcome.Error is { } error)
        {
            return Problems.From(error);
        }

        var dto = ConversationDto.From(outcome.Value!, caller.ParticipantKey);
        return TypedResults.Ok(caller.Role == ParticipantRole.Visitor ? dto.ForVisitor() : dto);
    }

    /// <summary>
    /// Whether a key restricted to inboxes may touch this conversation (one summary read, only for such keys); people and
    /// unrestricted keys always pass here (the grain checks them). Outside its inboxes the conversation does not exist for
    /// the key (404), as another tenant's would not.
    /// </summary>
    private static async Task<bool> KeyReachesAsync(ClaimsPrincipal user, IConversationGrain conversation)
    {
        if (!user.IsServiceKey() || !user.HasClaim(c => c.Type == KefuClaims.Inbox))
        {
            return true;
        }

        return await conversation.GetSummary() is { } summary && user.AllowsInbox(summary.Inbox);
    }

    private static IConversationGrain Conversation(IGrainFactory grains, Caller caller, string conversationId) =>
        grains.GetGrain<IConversationGrain>(Tenancy.Key(caller.Tenant, conversationId));

    private static ProblemHttpResult NotFound() =>
        Problems.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "Conversation was not found.");
}
