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

    public static IEndpointRouteBuilder MapVisitorsApi(this IEndpointRouteBuilder app)
    {
        // Bound once: the gateway may be an Orleans client without the silo's options.
        var options = app.ServiceProvider.GetRequiredService<IConfiguration>().GetSection(VisitorOptions.Section).Get<VisitorOptions>() ?? new VisitorOptions();
        var group = app.MapGroup("/api/v1/visitors").WithTags("visitors");
        group.MapPost("/", (CreateVisitorRequest? request, IGrainFactory grains, TokenService tokens, TimeProvider time) =>
            CreateAsync(request, grains, tokens, time, options)).AllowAnonymous().RequireRateLimiting(RateLimits.Visitors);
        group.MapGet("/me", MeAsync).RequireAuthorization();
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

            (tenant, inbox) = (resolved.Tenant, resolved.Inbox.InboxId);
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
            if (await tenantGrain.GetInbox(inbox) is null)
            {
                return Problems.Create(StatusCodes.Status400BadRequest, ErrorCodes.NotFound, $"Inbox '{inbox}' does not exist.");
            }
        }

        var visitorId = await RegisterAsync(grains, time, tenant, inbox, request.Name, request.Email, request.Attributes);
        var (token, _) = tokens.IssueVisitorToken(tenant, visitorId, request.Name?.Trim());
        return TypedResults.Created($"/api/v1/visitors/{visitorId}", new CreateVisitorResponse(visitorId, token));
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
    string VisitorId, string? Name, string? Email, string Inbox, Dictionary<string, string> Attributes, DateTime CreatedAt, string? ConversationId)
{
    public static VisitorResponse From(string visitorId, VisitorProfile profile, string? conversationId) =>
        new(visitorId, profile.Name, profile.Email, profile.Inbox, profile.Attributes, profile.CreatedAt.UtcDateTime, conversationId);
}
