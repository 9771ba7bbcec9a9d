using System.Security.Claims;
using Kefu.Contracts.Grains;
using Kefu.Gateway.Api;
using Kefu.Gateway.Auth;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection;

namespace Kefu.Gateway.Tests.Contacts;

/// <summary>
/// Who reads contacts (docs/integration.md §8.1): keys by their scope (a key without it: <c>missing_scope</c>), admins,
/// and agents — who pass no scope policy elsewhere. Checked on principals directly, independent of how keys authenticate.
/// </summary>
public sealed class ContactsPolicyTests
{
    private static readonly IAuthorizationService Authorization = new ServiceCollection().AddLogging().AddAuthorization()
        .BuildServiceProvider().GetRequiredService<IAuthorizationService>();

    private static ClaimsPrincipal Principal(string role, params string[] scopes) => new(new ClaimsIdentity(
        [new Claim(KefuClaims.Subject, "someone"), new Claim(KefuClaims.Role, role), .. scopes.Select(s => new Claim(KefuClaims.Scope, s))],
        "test"));

    [Fact]
    public async Task Keys_with_contacts_read_admins_and_agents_read_contacts()
    {
        Assert.True((await Authorization.AuthorizeAsync(Principal(KefuClaims.ServiceRole, Scopes.ContactsRead), ContactsApi.ReadPolicy)).Succeeded);
        Assert.True((await Authorization.AuthorizeAsync(Principal(AgentRoles.Admin), ContactsApi.ReadPolicy)).Succeeded);
        Assert.True((await Authorization.AuthorizeAsync(Principal(AgentRoles.Agent), ContactsApi.ReadPolicy)).Succeeded);
    }

    [Fact]
    public async Task A_key_without_the_scope_is_told_so_and_visitors_are_not_allowed()
    {
        var key = await Authorization.AuthorizeAsync(Principal(KefuClaims.ServiceRole, Scopes.ContactsWrite, Scopes.EventsRead), ContactsApi.ReadPolicy);
        Assert.False(key.Succeeded);
        Assert.Contains(key.Failure!.FailureReasons, r => r.Message == Scopes.MissingScope);

        var visitor = await Authorization.AuthorizeAsync(Principal(KefuClaims.VisitorRole), ContactsApi.ReadPolicy);
        Assert.False(visitor.Succeeded);
        Assert.DoesNotContain(visitor.Failure!.FailureReasons, r => r.Message == Scopes.MissingScope);
    }
}
