using Kefu.Browser.Tests.Infrastructure;

namespace Kefu.Browser.Tests;

/// <summary>The agent console beyond a single chat: history paging, admin pages, transfer to an agent or a team, list filters.</summary>
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
        await Expect(mei.Page.Locator("#chat-subtitle")).ToContainTextAsync("assigned to Bo");

        await bo.OpenConversationAsync(conversationId, filter: "mine");
        await Expect(bo.Message("Question about my invoice")).ToBeVisibleAsync();
        await bo.SendAsync("Hi, Bo from billing here.");
        await Expect(visitor.Message("Hi, Bo from billing here.")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task A_conversation_transferred_to_a_team_waits_in_its_queue_until_a_member_comes_online()
    {
        var bo = await fixture.CreateAgentAsync("Bo");
        var teamId = await fixture.CreateTeamAsync("Billing", bo);
        await using var mei = await ConsolePage.NewAgentAsync(fixture);
        await using var visitor = await VisitorPage.OpenAsync(fixture);
        var conversationId = await visitor.StartConversationAsync("Question about my invoice");
        await mei.OpenConversationAsync(conversationId, filter: "mine");

        // Mei is online with free slots but not in the team: the conversation leaves her and waits for the team.
        await mei.TransferAsync($"team:{teamId}");
        await Expect(mei.Page.Locator("#chat-subtitle")).ToContainTextAsync("queued · unassigned");
        await Expect(mei.Detail("Team")).ToHaveTextAsync(teamId);
        await Expect(mei.ListItem(conversationId)).ToHaveCountAsync(0); // no longer in "Mine"
        await mei.ShowTeamAsync(teamId);
        await Expect(mei.ListItem(conversationId).Locator(".status-queued")).ToBeVisibleAsync();
        var queue = visitor.Widget.Locator(".banner.queue");
        await Expect(queue).ToContainTextAsync("number 1 in the queue");

        // The team's member comes online and gets it.
        await using var boConsole = await ConsolePage.LoginAsync(fixture, bo, BrowserFixture.AgentPassword);
        await Expect(queue).ToBeHiddenAsync();
        await boConsole.OpenConversationAsync(conversationId, filter: "mine");
        await Expect(boConsole.Page.Locator("#chat-subtitle")).ToContainTextAsync("open · assigned to Bo");
        await Expect(boConsole.Detail("Team")).ToHaveTextAsync(teamId);
        await Expect(boConsole.Message("Question about my invoice")).ToHaveAttributeAsync("data-seq", "1");
        await boConsole.SendAsync("Hi, Bo from billing here.");
        await Expect(visitor.Message("Hi, Bo from billing here.")).ToHaveAttributeAsync("data-seq", "2");
    }

    [Fact]
    public async Task Each_list_filter_shows_its_conversations_and_hides_the_others()
    {
        var billing = await fixture.CreateTeamAsync("Billing", await fixture.CreateAgentAsync("Bo"));
        var sales = await fixture.CreateTeamAsync("Sales", await fixture.CreateAgentAsync("Su"));
        await using var mei = await ConsolePage.NewAgentAsync(fixture);
        await using var open = await VisitorPage.OpenAsync(fixture);
        var mine = await open.StartConversationAsync("stays with Mei");
        await using var done = await VisitorPage.OpenAsync(fixture);
        var resolved = await done.StartConversationAsync("resolved by Mei");
        await mei.OpenConversationAsync(resolved, filter: "mine");
        await mei.Page.Locator("#resolve-button").ClickAsync();
        await Expect(mei.Page.Locator("#reopen-button")).ToBeVisibleAsync();
        var queued = new Dictionary<string, string>();
        foreach (var teamId in new[] { billing, sales })
        {
            await using var visitor = await VisitorPage.OpenAsync(fixture);
            var conversationId = await visitor.StartConversationAsync("for " + teamId);
            await mei.OpenConversationAsync(conversationId, filter: "mine");
            await mei.TransferAsync($"team:{teamId}");
            await Expect(mei.Page.Locator("#chat-subtitle")).ToContainTextAsync("queued");
            queued[teamId] = conversationId;
        }

        // Each step's first expectation is a conversation the previous list did not show: it waits for the new list,
        // so the hidden ones are checked against that list and not the old one.
        var all = new[] { mine, resolved, queued[billing], queued[sales] };
        await ExpectListAsync(mei, () => mei.ShowFilterAsync("resolved"), all, resolved);
        await ExpectListAsync(mei, () => mei.ShowFilterAsync("unassigned"), all, queued[billing], queued[sales]);
        await ExpectListAsync(mei, () => mei.ShowFilterAsync("mine"), all, mine);
        await ExpectListAsync(mei, () => mei.ShowTeamAsync(billing), all, queued[billing]);
        await ExpectListAsync(mei, () => mei.ShowTeamAsync(sales), all, queued[sales]);
        await ExpectListAsync(mei, () => mei.ShowFilterAsync("queued"), all, queued[billing], queued[sales]);
        await ExpectListAsync(mei, () => mei.ShowFilterAsync("all"), all, all);
    }

    private static async Task ExpectListAsync(ConsolePage console, Func<Task> showList, string[] conversationIds, params string[] shown)
    {
        await showList();
        foreach (var id in shown)
        {
            await Expect(console.ListItem(id)).ToBeVisibleAsync();
        }

        foreach (var id in conversationIds.Except(shown))
        {
            await Expect(console.ListItem(id)).ToHaveCountAsync(0);
        }
    }
}
