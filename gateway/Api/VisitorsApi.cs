using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using System.Security.Claims;
using Kefu.Gateway.Auth;
using Kefu.Grains.Participants;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kefu.Gateway.Api;

/// <summary>Visitors: creation (anonymous, bounded), and reading one back (agents; the visitor itself).</summary>
public static class VisitorsApi
{
    /// <summary>Attributes out of the bounds of <see cref="VisitorOptions"/>.</summary>
    public const string InvalidAttributes = "invalid_attributes";

    /// <summary>A user id without its valid hash (or a hash without an id): nobody may claim another customer.</summary>
    public const string InvalidIdentity = "invalid_identity";

    public static IEndpointRouteBuilder MapVisitorsApi(this IEndpointRouteBuilder app)
    {
        // Bound once: the gateway may be an Orleans client without the silo's options.
        var options = app.ServiceProvider.GetRequiredService<IConfiguration>().GetSection(VisitorOptions.Section).Get<VisitorOptions>() ?? new VisitorOptions();
        var group = app.MapGroup("/api/v1/visitors").WithTags("visitors");
        group.MapPost("/", (CreateVisitorRequest? request, IGrainFactory grains, TokenService tokens, TimeProvider time) =>
            CreateAsync(request, grains, tokens, time, options)).AllowAnonymous().RequireRateLimiting(RateLimits.Visitors);
        group.MapGet("/me", MeAsync).RequireAuthorization();
        group.MapPost("/me/identify", IdentifyAsync).RequireAuthorization();
        group.MapGet("/{visitorId}", GetAsync).RequireAuthorization(KefuPolicies.Agent);
        return app;
    }

    /// <summary>Registers a new visitor of a tenant's inbox and returns its id.</summary>
    internal static async Task<string> RegisterAsync(
        IGrainFactory grains, TimeProvider time, string tenant, string inbox, string? name, string? email, Dictionary<string, string>? attributes)
    {
        var visitorId = Ulid.NewUlid().ToString();
        var profile = new VisitorProfile(name?.Trim(), email?.Trim(), inbox, attributes ?? [], time.GetUtcNow());
        await grains.GetGrain<IVisitorGrain>(Tenancy.Key(tenant, visitorId)).Register(profile);
        return visitorId;
    }

    private static async Task<Results<Ok<VisitorResponse>, ProblemHttpResult>> MeAsync(ClaimsPrincipal user, IGrainFactory grains)
    {
        var caller = user.ToCaller();
        if (caller.Role != ParticipantRole.Visitor)
        {
            return Problems.Create(StatusCodes.Status403Forbidden, ErrorCodes.NotAllowed, "This is a visitor's own record; agents use /api/v1/visitors/{visitorId}.");
        }

        return await ReadAsync(grains, caller.Tenant, caller.Id);
    }

    private static async Task<Results<Ok<VisitorResponse>, ProblemHttpResult>> GetAsync(string visitorId, ClaimsPrincipal user, IGrainFactory grains) =>
        await ReadAsync(grains, user.ToCaller().Tenant, visitorId);

    private static async Task<Results<Ok<VisitorResponse>, ProblemHttpResult>> ReadAsync(IGrainFactory grains, string tenant, string visitorId)
    {
        // Visitor ids are ULIDs: anything else names no visitor, and activates no grain.
        if (!Ulid.TryParse(visitorId, out _))
        {
            return VisitorNotFound();
        }

        var visitor = grains.GetGrain<IVisitorGrain>(Tenancy.Key(tenant, visitorId));
        if (await visitor.GetProfile() is not { } profile)
        {
            return VisitorNotFound();
        }

        return TypedResults.Ok(VisitorResponse.From(visitorId, profile, await visitor.GetCurrentConversation()));
    }

    private static ProblemHttpResult VisitorNotFound() =>
        Problems.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "Visitor was not found.");

    private static async Task<Results<Created<CreateVisitorResponse>, ProblemHttpResult>> CreateAsync(
        CreateVisitorRequest? request, IGrainFactory grains, TokenService tokens, TimeProvider time, VisitorOptions options)
    {
        request ??= new CreateVisitorRequest(null, null, null, null, null);
        string tenant, inbox;
        InboxConfig? inboxConfig = null;
        if (request.InboxKey is { } key)
        {
            if (request.Tenant is not null || request.Inbox is not null)
            {
                return Problems.Invalid("Give either 'inboxKey' or 'tenant' and 'inbox', not both.");
            }

            if (await WidgetApi.ResolveAsync(grains, key) is not { } resolved)
            {
                return WidgetApi.UnknownKey();
            }

            (tenant, inbox, inboxConfig) = (resolved.Tenant, resolved.Inbox.InboxId, resolved.Inbox);
        }
        else
        {
            tenant = request.Tenant ?? Tenancy.DefaultTenant;
            inbox = request.Inbox ?? Tenancy.DefaultInbox;
        }

        if (Validate(request, tenant, inbox, options) is { } problem)
        {
            return problem;
        }

        if (request.InboxKey is null)
        {
            var tenantGrain = grains.GetGrain<ITenantGrain>(tenant);
            if (!await tenantGrain.Exists())
            {
                return Problems.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, $"Tenant '{tenant}' does not exist.");
            }

            // A visitor of an inbox that does not exist would wait in a queue nobody serves.
            inboxConfig = await tenantGrain.GetInbox(inbox);
            if (inboxConfig is null)
            {
                return Problems.Create(StatusCodes.Status400BadRequest, ErrorCodes.NotFound, $"Inbox '{inbox}' does not exist.");
            }
        }

        if (request.UserId is null && request.UserHash is null)
        {
            var visitorId = await RegisterAsync(grains, time, tenant, inbox, request.Name, request.Email, request.Attributes);
            var (token, _) = tokens.IssueVisitorToken(tenant, visitorId, request.Name?.Trim());
            return TypedResults.Created($"/api/v1/visitors/{visitorId}", new CreateVisitorResponse(visitorId, token));
        }

        if (CheckIdentity(inboxConfig!, request.UserId, request.UserHash) is { } refused)
        {
            return refused;
        }

        // An identified customer chats as their contact's visitor in this inbox, so they find their conversation again on
        // any device; the contact is made on first sight, named by the form (if any).
        var contact = await FindOrCreateContactAsync(grains, tenant, request.UserId!, request.Name, request.Email);
        var seed = new VisitorProfile(request.Name?.Trim(), request.Email?.Trim(), inbox, request.Attributes ?? [], time.GetUtcNow());
        var visitor = await grains.GetGrain<IContactGrain>(Tenancy.Key(tenant, contact.ContactId)).VisitorFor(inbox, seed);
        if (visitor.Error is { } error)
        {
            return Problems.From(error);
        }

        var name = (await grains.GetGrain<IVisitorGrain>(Tenancy.Key(tenant, visitor.Value!)).GetProfile())?.Name ?? contact.Name;
        var (identifiedToken, _) = tokens.IssueVisitorToken(tenant, visitor.Value!, name);
        return TypedResults.Created($"/api/v1/visitors/{visitor.Value}", new CreateVisitorResponse(visitor.Value!, identifiedToken, contact.ContactId));
    }

    /// <summary>
    /// An anonymous visitor who then signed in on the website: linked to the contact, keeping its visitor id, token and
    /// conversation (the conversation becomes one of the contact's).
    /// </summary>
    private static async Task<Results<Ok<IdentifyVisitorResponse>, ProblemHttpResult>> IdentifyAsync(
        IdentifyVisitorRequest? request, ClaimsPrincipal user, IGrainFactory grains)
    {
        var caller = user.ToCaller();
        if (caller.Role != ParticipantRole.Visitor)
        {
            return Problems.Create(StatusCodes.Status403Forbidden, ErrorCodes.NotAllowed, "Only a visitor identifies itself.");
        }

        var visitor = grains.GetGrain<IVisitorGrain>(Tenancy.Key(caller.Tenant, caller.Id));
        if (await visitor.GetProfile() is not { } profile)
        {
            return VisitorNotFound();
        }

        var inbox = await grains.GetGrain<ITenantGrain>(caller.Tenant).GetInbox(profile.Inbox);
        if (inbox is null)
        {
            return Problems.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "The visitor's inbox no longer exists.");
        }

        if (CheckIdentity(inbox, request?.UserId, request?.UserHash) is { } refused)
        {
            return refused;
        }

        var contact = await FindOrCreateContactAsync(grains, caller.Tenant, request!.UserId!, profile.Name, profile.Email);
        var linked = await visitor.LinkContact(contact.ContactId);
        if (linked.Error is { } error)
        {
            return Problems.From(error);
        }

        await grains.GetGrain<IContactGrain>(Tenancy.Key(caller.Tenant, contact.ContactId)).AttachVisitor(caller.Id, profile.Inbox);
        return TypedResults.Ok(new IdentifyVisitorResponse(caller.Id, contact.ContactId));
    }

    /// <summary>Null when <paramref name="hash"/> is the inbox's hash of <paramref name="userId"/>; else the refusal.</summary>
    private static ProblemHttpResult? CheckIdentity(InboxConfig inbox, string? userId, string? hash)
    {
        if (!VisitorIdentity.IsValidUserId(userId))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, InvalidIdentity,
                $"userId must be 1 to {VisitorIdentity.MaxUserIdLength} characters, without control characters or outer spaces, and comes with userHash.");
        }

        // The reason stays vague on purpose (no hint whether the secret exists); the website's developer checks its own hash.
        return VisitorIdentity.Verify(inbox.IdentitySecret, userId!, hash)
            ? null
            : Problems.Create(StatusCodes.Status403Forbidden, InvalidIdentity,
                "userHash is not the HMAC-SHA256 of userId with this inbox's identity secret (hex).");
    }

    private static async Task<Contact> FindOrCreateContactAsync(IGrainFactory grains, string tenant, string externalId, string? name, string? email)
    {
        var seed = new ContactPatch(name?.Trim(), email?.Trim());
        var found = await grains.GetGrain<IContactIndexGrain>(Tenancy.Key(tenant, externalId))
            .FindOrCreate(seed, Causation.Of("widget"));
        return found.Contact;
    }

    private static ProblemHttpResult? Validate(CreateVisitorRequest request, string tenant, string inbox, VisitorOptions options)
    {
        if (!Tenancy.IsValidName(tenant))
        {
            return Problems.Invalid("tenant must be 1-64 characters: a-z, 0-9, '-', '_', '.'.");
        }

        if (!Tenancy.IsValidName(inbox))
        {
            return Problems.Invalid("inbox must be 1-64 characters: a-z, 0-9, '-', '_', '.'.");
        }

        if (request.Name is { } name && name.Length > options.MaxNameLength)
        {
            return Problems.Invalid($"name must be at most {options.MaxNameLength} characters.");
        }

        if (request.Email is { } email && (email.Length > options.MaxEmailLength || !email.Contains('@', StringComparison.Ordinal)))
        {
            return Problems.Invalid($"email must be an address of at most {options.MaxEmailLength} characters.");
        }

        return options.CheckAttributes(request.Attributes) is { } why
            ? Problems.Create(StatusCodes.Status400BadRequest, InvalidAttributes, why)
            : null;
    }
}

/// <summary>A visitor as agents (and the visitor itself) see it.</summary>
public sealed record VisitorResponse(
    string VisitorId, string? Name, string? Email, string Inbox, Dictionary<string, string> Attributes, DateTime CreatedAt, string? ConversationId,
    string? ContactId)
{
    public static VisitorResponse From(string visitorId, VisitorProfile profile, string? conversationId) =>
        new(visitorId, profile.Name, profile.Email, profile.Inbox, profile.Attributes, profile.CreatedAt.UtcDateTime, conversationId, profile.ContactId);
}
