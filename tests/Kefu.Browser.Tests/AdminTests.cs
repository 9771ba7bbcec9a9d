using System.Net;
using System.Net.Http.Json;
using Kefu.Browser.Tests.Infrastructure;

namespace Kefu.Browser.Tests;

/// <summary>The console's admin pages: what is edited is saved (still there after a reload), what is deleted is gone.</summary>
[Collection(BrowserCollection.Name)]
public sealed class AdminTests(BrowserFixture fixture)
{
    [Fact]
    public async Task An_agent_edited_in_the_admin_pages_keeps_the_new_name_and_capacity()
    {
        var agentId = await fixture.CreateAgentAsync("Mei", capacity: 5);
        await using var admin = await ConsolePage.LoginAsync(fixture);
        await admin.ShowAdminAsync("agents");
        var row = admin.Page.Locator($"#agents-body tr[data-agent='{agentId}']");
        await row.Locator("input[aria-label^='Display name']").FillAsync("Mei <i>Li</i>");
        await row.Locator("input[type=number]").FillAsync("12");
        await row.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(admin.Page.Locator("#toast")).ToHaveTextAsync($"Saved {agentId}.");

        await admin.ReloadAsync();
        await admin.ShowAdminAsync("agents");
        await Expect(row.Locator("input[aria-label^='Display name']")).ToHaveValueAsync("Mei <i>Li</i>");
        await Expect(row.Locator("input[type=number]")).ToHaveValueAsync("12");
        await Expect(admin.Page.Locator($"#team-members label:has(input[value='{agentId}'])")).ToHaveTextAsync(" Mei <i>Li</i>");
    }

    [Fact]
    public async Task A_team_edited_in_the_admin_pages_keeps_its_new_name_and_members_and_a_deleted_one_is_gone()
    {
        var bo = await fixture.CreateAgentAsync("Bo");
        var su = await fixture.CreateAgentAsync("Su");
        var teamId = await fixture.CreateTeamAsync("Billing", bo);
        var kept = await fixture.CreateTeamAsync("Kept", bo);
        await using var admin = await ConsolePage.LoginAsync(fixture);
        await admin.ShowAdminAsync("teams");
        var row = admin.Page.Locator("#teams-body tr").Filter(new() { HasText = teamId });
        await row.GetByRole(AriaRole.Button, new() { Name = "Edit" }).ClickAsync();
        var form = admin.Page.Locator("#team-form");
        await Expect(form.Locator("input[name=teamId]")).ToHaveValueAsync(teamId);
        await Expect(form.Locator($"input[value='{bo}']")).ToBeCheckedAsync();
        await form.Locator("input[name=name]").FillAsync("Billing & refunds");
        await form.Locator($"input[value='{bo}']").UncheckAsync();
        await form.Locator($"input[value='{su}']").CheckAsync();
        await form.Locator("button[type=submit]").ClickAsync();
        await Expect(row.Locator("td").Nth(1)).ToHaveTextAsync("Billing & refunds");

        await admin.ReloadAsync();
        await admin.ShowAdminAsync("teams");
        await Expect(row.Locator("td").Nth(1)).ToHaveTextAsync("Billing & refunds");
        await Expect(row.Locator("td").Nth(2)).ToHaveTextAsync(su);

        await admin.ClickAndConfirmAsync(row.GetByRole(AriaRole.Button, new() { Name = "Delete" }), $"Delete team {teamId}?");
        await Expect(row).ToHaveCountAsync(0);
        await admin.ReloadAsync();
        await admin.ShowAdminAsync("teams");
        await Expect(admin.Page.Locator("#teams-body tr").Filter(new() { HasText = kept })).ToBeVisibleAsync(); // the list is loaded
        await Expect(row).ToHaveCountAsync(0);
        await Expect(admin.Page.Locator($"#team-filter option[value='{teamId}']")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task An_inbox_edited_in_the_admin_pages_keeps_its_new_settings_and_a_deleted_one_is_gone()
    {
        var inboxId = "support-" + Guid.NewGuid().ToString("N")[..6];
        await using var admin = await ConsolePage.LoginAsync(fixture);
        await admin.ShowAdminAsync("inboxes");
        var form = admin.Page.Locator("#inbox-form");
        await form.Locator("input[name=inboxId]").FillAsync(inboxId);
        await form.Locator("input[name=name]").FillAsync("Support");
        await form.Locator("button[type=submit]").ClickAsync();
        var card = admin.Page.Locator($".card[data-inbox='{inboxId}']");
        await Expect(card.Locator("h3")).ToHaveTextAsync($"Support ({inboxId})");
        var publicKey = await card.Locator(".public-key").TextContentAsync();

        await card.GetByRole(AriaRole.Button, new() { Name = "Edit" }).ClickAsync();
        await Expect(form.Locator("input[name=name]")).ToHaveValueAsync("Support");
        await form.Locator("input[name=name]").FillAsync("Support <b>EU</b>");
        await form.Locator("select[name=assignmentPolicy]").SelectOptionAsync("round_robin");
        await form.Locator("input[name=preChatForm]").CheckAsync();
        await form.Locator("button[type=submit]").ClickAsync();
        await Expect(card.Locator("h3")).ToHaveTextAsync($"Support <b>EU</b> ({inboxId})");

        await admin.ReloadAsync();
        await admin.ShowAdminAsync("inboxes");
        await Expect(card.Locator("h3")).ToHaveTextAsync($"Support <b>EU</b> ({inboxId})");
        await Expect(card.Locator(".details-list")).ToContainTextAsync("round_robin");
        await Expect(card.Locator(".details-list")).ToContainTextAsync("Pre-chat formyes");
        await Expect(card.Locator(".public-key")).ToHaveTextAsync(publicKey!); // an edit keeps the embed code working

        await admin.ClickAndConfirmAsync(card.GetByRole(AriaRole.Button, new() { Name = "Delete" }), $"Delete inbox {inboxId}?");
        await Expect(card).ToHaveCountAsync(0);
        await admin.ReloadAsync();
        await admin.ShowAdminAsync("inboxes");
        await Expect(admin.Page.Locator(".card[data-inbox='default']")).ToBeVisibleAsync(); // the list is loaded
        await Expect(card).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task A_canned_reply_edited_in_the_admin_pages_keeps_its_new_text_and_a_deleted_one_is_gone()
    {
        var shortcut = "hours" + Guid.NewGuid().ToString("N")[..6];
        using (var http = await fixture.AdminHttpAsync())
        {
            foreach (var (key, reply) in new[] { (shortcut, "We are open 9-18."), ("kept" + shortcut, "Kept.") })
            {
                var created = await http.PostAsJsonAsync("/api/v1/canned-replies", new { shortcut = key, text = reply });
                Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            }
        }

        await using var admin = await ConsolePage.LoginAsync(fixture);
        await admin.ShowAdminAsync("canned");
        var row = admin.Page.Locator("#canned-body tr").Filter(new() { HasText = "/" + shortcut });
        var text = row.Locator("textarea");
        await Expect(text).ToHaveValueAsync("We are open 9-18.");
        await text.FillAsync("We are open 8-20, <b>every</b> day.");
        await row.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(admin.Page.Locator("#toast")).ToHaveTextAsync("Saved.");

        await admin.ReloadAsync();
        await admin.ShowAdminAsync("canned");
        await Expect(text).ToHaveValueAsync("We are open 8-20, <b>every</b> day.");

        await row.GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Expect(row).ToHaveCountAsync(0);
        await admin.ReloadAsync();
        await admin.ShowAdminAsync("canned");
        await Expect(admin.Page.Locator("#canned-body tr").Filter(new() { HasText = "/kept" + shortcut })).ToBeVisibleAsync(); // the list is loaded
        await Expect(row).ToHaveCountAsync(0);
    }
}
