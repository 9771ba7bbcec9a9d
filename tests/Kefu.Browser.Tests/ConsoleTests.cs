using Kefu.Browser.Tests.Infrastructure;

namespace Kefu.Browser.Tests;

/// <summary>The agent console beyond a single chat: history paging, admin pages, transfer.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ConsoleTests(BrowserFixture fixture)
{
    [Fact]
    public async Task A_long_history_opens_at_the_newest_page_and_pages_back()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        await using var visitor = await VisitorPage.OpenAsync(fixture);
        await visitor.OpenPanelAsync();
        for (var i = 1; i <= 60; i++)
        {
            await visitor.SendAsync($"message {i:00}");
        }

        await Expect(visitor.Message("message 60")).ToHaveAttributeAsync("data-seq", "60");
        await agent.OpenConversationAsync(await visitor.ConversationIdAsync());
        var shown = agent.Page.Locator("#log .msg");
        await Expect(shown).ToHaveCountAsync(50);
        await Expect(shown.First).ToHaveAttributeAsync("data-seq", "11");
        await agent.Page.Locator("#load-earlier").ClickAsync();
        await Expect(shown).ToHaveCountAsync(60);
        await Expect(agent.Page.Locator("#load-earlier")).ToBeHiddenAsync();
        Assert.Equal(Enumerable.Range(1, 60).Select(i => $"message {i:00}"), (await agent.MessagesAsync()).Select(m => m.Text));
        Assert.Equal(Enumerable.Range(1, 60).Select(i => (long)i), (await agent.MessagesAsync()).Select(m => m.Seq!.Value));
    }

    [Fact]
    public async Task An_admin_creates_an_agent_and_a_team_and_a_conversation_is_transferred_to_that_agent()
    {
        var username = "bo-" + Guid.NewGuid().ToString("N")[..6];
        var teamId = "billing-" + Guid.NewGuid().ToString("N")[..6];
        await using (var admin = await ConsolePage.LoginAsync(fixture))
        {
            await admin.Page.Locator("#nav button[data-view='agents']").ClickAsync();
            var form = admin.Page.Locator("#agent-form");
            await form.Locator("input[name=username]").FillAsync(username);
            await form.Locator("input[name=password]").FillAsync(BrowserFixture.AgentPassword);
            await form.Locator("input[name=displayName]").FillAsync("Bo");
            await form.Locator("input[name=capacity]").FillAsync("10");
            await form.Locator("button[type=submit]").ClickAsync();
            var row = admin.Page.Locator($"#agents-body tr[data-agent='{username}']");
            await Expect(row).ToBeVisibleAsync();
            await Expect(row.Locator("input[type=number]")).ToHaveValueAsync("10");

            await admin.Page.Locator("#nav button[data-view='teams']").ClickAsync();
            var team = admin.Page.Locator("#team-form");
            await team.Locator("input[name=teamId]").FillAsync(teamId);
            await team.Locator("input[name=name]").FillAsync("Billing");
            await team.Locator($"#team-members input[value='{username}']").CheckAsync();
            await team.Locator("button[type=submit]").ClickAsync();
            await Expect(admin.Page.Locator("#teams-body")).ToContainTextAsync(teamId);
            await Expect(admin.Page.Locator("#teams-body")).ToContainTextAsync(username);
        }

        await using var mei = await ConsolePage.NewAgentAsync(fixture);
        await using var visitor = await VisitorPage.OpenAsync(fixture);
        await visitor.OpenPanelAsync();
        await visitor.SendAsync("Question about my invoice");
        await Expect(visitor.Message("Question about my invoice")).ToHaveAttributeAsync("data-state", "sent");
        var conversationId = await visitor.ConversationIdAsync();
        await mei.OpenConversationAsync(conversationId, filter: "mine");

        await using var bo = await ConsolePage.LoginAsync(fixture, username, BrowserFixture.AgentPassword);
        await Expect(mei.Page.Locator($"#transfer-target option[value='team:{teamId}']")).ToHaveCountAsync(1);
        await mei.Page.Locator("#transfer-target").SelectOptionAsync($"agent:{username}");
        await mei.Page.Locator("#transfer-form button").ClickAsync();
        await Expect(mei.Page.Locator("#chat-subtitle")).ToContainTextAsync("assigned to " + username);

        await bo.OpenConversationAsync(conversationId, filter: "mine");
        await Expect(bo.Message("Question about my invoice")).ToBeVisibleAsync();
        await bo.SendAsync("Hi, Bo from billing here.");
        await Expect(visitor.Message("Hi, Bo from billing here.")).ToBeVisibleAsync();
    }
}
