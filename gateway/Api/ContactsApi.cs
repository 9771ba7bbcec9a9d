using System.Security.Claims;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Auth;
using Kefu.Grains.Contacts;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kefu.Gateway.Api;

/// <summary>
/// Contacts (issue #14, docs/integration.md §8): the business's customers by its own id. Keys read with
/// <c>contacts:read</c> and write with <c>contacts:write</c>; admins may do both; agents read (the console's contact panel).
/// </summary>
public static class ContactsApi
{
    public static IEndpointRouteBuilder MapContactsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/contacts").WithTags("contacts");
        group.MapGet("/", LookupAsync).RequireAuthorization(ReadPolicy);
        group.MapGet("/{contactId}", GetAsync).RequireAuthorization(ReadPolicy);
        group.MapPatch("/{contactId}", PatchAsync).RequireAuthorization(KefuPolicies.ForScope(Scopes.ContactsWrite));
        return app;
    }

    /// <summary>Who reads contacts: keys with <c>contacts:read</c>, admins, and agents (the console's contact panel).</summary>
    public static AuthorizationPolicy ReadPolicy { get; } = new AuthorizationPolicyBuilder().RequireAuthenticatedUser()
        .AddRequirements(new ScopeRequirement(Scopes.ContactsRead), new AgentsMayRead()).Build();

    private static async Task<Results<Ok<ContactListResponse>, ProblemHttpResult>> LookupAsync(string? externalId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (string.IsNullOrEmpty(externalId))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, ErrorCodes.MissingField, "Give the externalId to look up: /api/v1/contacts?externalId=….");
        }

        // An id no contact can have (too long, control characters) finds nothing, and activates no grain.
        var tenant = user.ToCaller().Tenant;
        if (!VisitorIdentity.IsValidUserId(externalId)
            || await grains.GetGrain<IContactIndexGrain>(Tenancy.Key(tenant, externalId)).Find() is not { } contactId
            || await grains.GetGrain<IContactGrain>(Tenancy.Key(tenant, contactId)).Get() is not { } contact)
        {
            return TypedResults.Ok(new ContactListResponse([]));
        }

        return TypedResults.Ok(new ContactListResponse([ContactDto.From(contact)]));
    }

    private static async Task<Results<Ok<ContactDto>, ProblemHttpResult>> GetAsync(string contactId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!Ulid.TryParse(contactId, out _)
            || await grains.GetGrain<IContactGrain>(Tenancy.Key(user.ToCaller().Tenant, contactId)).Get() is not { } contact)
        {
            return ContactNotFound();
        }

        return TypedResults.Ok(ContactDto.From(contact));
    }

    private static async Task<Results<Ok<ContactDto>, ProblemHttpResult>> PatchAsync(
        string contactId, ContactPatchRequest? request, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (request is null)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, ErrorCodes.MissingField, "Send a JSON object with name, email and/or attributes.");
        }

        var patch = new ContactPatch(request.Name, request.Email, request.Attributes);
        if (ContactRules.Check(patch) is { } invalid)
        {
            return Problems.From(invalid);
        }

        var caller = user.ToCaller();
        if (!Ulid.TryParse(contactId, out _))
        {
            return ContactNotFound();
        }

        var contact = grains.GetGrain<IContactGrain>(Tenancy.Key(caller.Tenant, contactId));
        var outcome = await contact.Update(patch, Causation.Of(caller));
        if (outcome.Error is { } error)
        {
            return Problems.From(error);
        }

        // Read back: the answer lists the conversations of the contact's visitors too.
        return TypedResults.Ok(ContactDto.From(await contact.Get() ?? outcome.Value!));
    }

    private static ProblemHttpResult ContactNotFound() =>
        Problems.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "Contact was not found.");

    /// <summary>
    /// Agents (and admins) read contacts too: this requirement lets an agent JWT satisfy the policy's scope requirement,
    /// while keys are still judged by their scopes (so a key without <c>contacts:read</c> gets <c>missing_scope</c>).
    /// </summary>
    private sealed class AgentsMayRead : AuthorizationHandler<AgentsMayRead>, IAuthorizationRequirement
    {
        protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, AgentsMayRead requirement)
        {
            var user = context.User;
            if (user.HasClaim(KefuClaims.Role, AgentRoles.Agent) || user.HasClaim(KefuClaims.Role, AgentRoles.Admin))
            {
                foreach (var scope in context.PendingRequirements.OfType<ScopeRequirement>().ToArray())
                {
                    context.Succeed(scope);
                }
            }

            context.Succeed(requirement);
            return Task.CompletedTask;
        }
    }
}

/// <summary>PATCH body: null (or absent) members stay; "" clears name or email; an attribute set to null is removed.</summary>
public sealed record ContactPatchRequest(string? Name, string? Email, Dictionary<string, string?>? Attributes);

public sealed record ContactDto(
    string Id, string? ExternalId, string? Name, string? Email, Dictionary<string, string> Attributes, string[] ConversationIds,
    DateTime CreatedAt, DateTime UpdatedAt)
{
    public static ContactDto From(Contact c) =>
        new(c.ContactId, c.ExternalId, c.Name, c.Email, c.Attributes, c.ConversationIds, c.CreatedAt.UtcDateTime, c.UpdatedAt.UtcDateTime);
}

public sealed record ContactListResponse(ContactDto[] Contacts);
