using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Browser.Tests.Infrastructure;
using Kefu.Grains.Tests.Crm;

namespace Kefu.Browser.Tests;

/// <summary>The contact panel shows where the contact stands in the CRM, and an admin can retry a refused one (issue #17 item 7).</summary>
[Collection(BrowserCollection.Name)]
public sealed class CrmBadgeTests(BrowserFixture fixture)
{
    [Fact]
    public async Task A_refused_contact_shows_failed_with_the_reason_and_retry_brings_it_in_sync()
    {
        var email = $"pat-{Ulid.NewUlid()}@example.com".ToLowerInvariant();
        var refuse = 1;
        fixture.Crm.For("sales").Script = (request, _) =>
            request.IsWrite && request.Body.Contains(email, StringComparison.Ordinal) && Volatile.Read(ref refuse) == 1 ? new CrmFault(Status: 422) : null;
        using var admin = await fixture.AdminHttpAsync();
        var accepted = await admin.PostAsJsonAsync("/api/v1/webhook",
            new { id = "signup-" + Ulid.NewUlid(), type = "signup", contact = new { externalId = "u-" + Ulid.NewUlid(), name = "Pat", email } });
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var conversationId = (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("conversationId").GetString()!;

        // An admin of its own, deactivated at the end: no admin of this test lingers online to be assigned the next
        // test's conversations while its connection is being closed.
        var adminId = $"crm-admin-{Guid.NewGuid():N}"[..22];
        var created = await admin.PostAsJsonAsync("/api/v1/agents", new { username = adminId, password = BrowserFixture.AgentPassword, displayName = "CRM admin", role = "admin", capacity = 1 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        await using var console = await ConsolePage.LoginAsync(fixture, adminId, BrowserFixture.AgentPassword);
        await console.OpenConversationAsync(conversationId);
        var badge = console.Page.Locator("#contact-crm li[data-crm='sales']");
        await Expect(badge).ToHaveAttributeAsync("data-state", "failed");
        await Expect(badge.Locator(".crm-state")).ToHaveTextAsync("Failed");
        await Expect(badge.Locator(".crm-error")).ToContainTextAsync("HTTP 422");
        await Screenshots.SaveAsync(console.Page, "crm-badge-failed");

        Volatile.Write(ref refuse, 0);
        await badge.Locator("button.crm-retry").ClickAsync();
        await Expect(badge).ToHaveAttributeAsync("data-state", "in_sync");
        await Expect(badge.Locator(".crm-state")).ToHaveTextAsync("In sync");
        await Expect(badge.Locator("button.crm-retry")).ToHaveCountAsync(0);

        // Leave nothing behind in the shared gateway: nothing waiting in the queue, no admin to assign to.
        (await admin.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/status", new { status = "resolved" })).EnsureSuccessStatusCode();
        (await admin.PatchAsJsonAsync($"/api/v1/agents/{adminId}", new { active = false })).EnsureSuccessStatusCode();
    }
}
