using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kefu.Gateway.Api;

public static class VisitorsApi
{
    private const int MaxAttributes = 50;

    public static IEndpointRouteBuilder MapVisitorsApi(this IEndpointRouteBuilder app)
    {
        var visitors = app.MapGroup("/api/v1/visitors").WithTags("visitors");
        visitors.MapPost("/", CreateAsync).AllowAnonymous().RequireRateLimiting(RateLimits.Visitors);
        visitors.MapVisitorDetails();
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

    private static async Task<Results<Created<CreateVisitorResponse>, ProblemHttpResult>> CreateAsync(
        CreateVisitorRequest? request, IGrainFactory grains, TokenService tokens, TimeProvider time)
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

        if (Validate(request, tenant, inbox) is { } problem)
        {
            return problem;
        }

        if (request.InboxKey is null && !await grains.GetGrain<ITenantGrain>(tenant).Exists())
        {
            return Problems.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, $"Tenant '{tenant}' does not exist.");
        }

        var visitorId = await RegisterAsync(grains, time, tenant, inbox, request.Name, request.Email, request.Attributes);
        var (token, _) = tokens.IssueVisitorToken(tenant, visitorId, request.Name?.Trim());
        return TypedResults.Created($"/api/v1/visitors/{visitorId}", new CreateVisitorResponse(visitorId, token));
    }

    private static ProblemHttpResult? Validate(CreateVisitorRequest request, string tenant, string inbox)
    {
        if (!Tenancy.IsValidName(tenant))
        {
            return Problems.Invalid("tenant must be 1-64 characters: a-z, 0-9, '-', '_', '.'.");
        }

        if (!Tenancy.IsValidName(inbox))
        {
            return Problems.Invalid("inbox must be 1-64 characters: a-z, 0-9, '-', '_', '.'.");
        }

        if (request.Name is { Length: > 128 })
        {
            return Problems.Invalid("name must be at most 128 characters.");
        }

        if (request.Email is { } email && (email.Length > 254 || !email.Contains('@', StringComparison.Ordinal)))
        {
            return Problems.Invalid("email is not a valid address.");
        }

        if (request.Attributes is { } attributes)
        {
            if (attributes.Count > MaxAttributes)
            {
                return Problems.Invalid($"at most {MaxAttributes} attributes are allowed.");
            }

            if (attributes.Any(a => a.Key.Length is 0 or > 64 || a.Value is null || a.Value.Length > 1024))
            {
                return Problems.Invalid("attribute keys must be 1-64 characters and values at most 1024.");
            }
        }

        return null;
    }
}
