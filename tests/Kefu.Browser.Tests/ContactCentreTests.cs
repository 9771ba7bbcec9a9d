using System.Text.RegularExpressions;
using Kefu.Browser.Tests.Infrastructure;

namespace Kefu.Browser.Tests;

/// <summary>The contact-centre side of the pages: availability, queue, lifecycle, CSAT, canned replies, notes, admin.</summary>
[Collection(BrowserCollection.Name)]
public sealed partial class ContactCentreTests(BrowserFixture fixture)
{
    [Fact]
    public async Task With_nobody_online_the_widget_takes_a_message_that_an_agent_finds_later()
    {
        await using var visitor = await VisitorPage.OpenAsync(fixture);
        await visitor.OpenPanelAsync();
        var form = visitor.Widget.Locator("form.offline");
        await Expect(form).ToBeVisibleAsync();
        await Expect(visitor.Input).ToBeHiddenAsync();
        await form.Locator("input[name=name]").FillAsync("Lin");
        await form.Locator("input[name=email]").FillAsync("lin@example.com");
        await form.Locator("textarea[name=text]").FillAsync("Please call me back about my refund.");
        await Screenshots.SaveAsync(visitor.Page, "widget-offline", visitor.Widget.Locator("section.panel"));
        await form.Locator("button[type=submit]").ClickAsync();
        await Expect(visitor.Widget.Locator("p.left")).ToContainTextAsync("Thank you");

        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        await agent.OpenConversationByNameAsync("Lin");
        await Expect(agent.Message("Please call me back about my refund.")).ToHaveAttributeAsync("data-seq", "1");
    }

    [Fact]
    public async Task An_agent_going_away_closes_the_chat_and_coming_back_opens_it()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        await agent.Page.Locator("#presence").SelectOptionAsync("away");
        await Expect(agent.Page.Locator("#presence-dot")).ToHaveClassAsync("dot away");
        await using (var visitor = await VisitorPage.OpenAsync(fixture))
        {
            await visitor.OpenPanelAsync();
            await Expect(visitor.Widget.Locator("form.offline")).ToBeVisibleAsync();
        }

        await agent.Page.Locator("#presence").SelectOptionAsync("online");
        await Expect(agent.Page.Locator("#presence-dot")).ToHaveClassAsync("dot online");
        await using var again = await VisitorPage.OpenAsync(fixture);
        await again.OpenPanelAsync();
        await Expect(again.Input).ToBeVisibleAsync();
        await Expect(again.Widget.Locator("form.offline")).ToBeHiddenAsync();
    }

    [Fact]
    public async Task A_waiting_visitor_sees_the_queue_position_until_an_agent_is_free()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture, "Solo", capacity: 1);
        await using var first = await VisitorPage.OpenAsync(fixture);
        await first.OpenPanelAsync();
        await first.SendAsync("first in line");
        await Expect(first.Message("first in line")).ToHaveAttributeAsync("data-state", "sent");
        var firstId = await first.ConversationIdAsync();

        await using var second = await VisitorPage.OpenAsync(fixture);
        await second.OpenPanelAsync();
        await second.SendAsync("second in line");
        var queue = second.Widget.Locator(".banner.queue");
        await Expect(queue).ToBeVisibleAsync();
        await Expect(queue).ToContainTextAsync("number 1 in the queue");
        await Screenshots.SaveAsync(second.Page, "widget-queue", second.Widget.Locator("section.panel"));

        // The agent resolves the first conversation: its slot frees and the waiting one is assigned.
        await agent.OpenConversationAsync(firstId);
        await agent.Page.Locator("#resolve-button").ClickAsync();
        await Expect(queue).ToBeHiddenAsync();
    }

    [Fact]
    public async Task After_the_agent_resolves_the_visitor_rates_it_and_the_agent_can_reopen_and_snooze()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        await using var visitor = await VisitorPage.OpenAsync(fixture);
        await visitor.OpenPanelAsync();
        await visitor.SendAsync("My parcel arrived, thanks!");
        await Expect(visitor.Message("My parcel arrived, thanks!")).ToHaveAttributeAsync("data-state", "sent");
        await agent.OpenConversationAsync(await visitor.ConversationIdAsync());
        await agent.SendAsync("Glad to hear it!");
        await Expect(visitor.Message("Glad to hear it!")).ToBeVisibleAsync();

        await agent.Page.Locator("#resolve-button").ClickAsync();
        await Expect(agent.Page.Locator("#reopen-button")).ToBeVisibleAsync();
        var csat = visitor.Widget.Locator(".csat");
        await Expect(csat).ToBeVisibleAsync();
        await csat.Locator("button[data-rating='4']").ClickAsync();
        await csat.Locator("textarea").FillAsync("Quick and kind <b>really</b>");
        await Screenshots.SaveAsync(visitor.Page, "widget-csat", visitor.Widget.Locator("section.panel"));
        await csat.Locator("button.primary").ClickAsync();
        await Expect(csat).ToContainTextAsync("Thank you for your feedback!");

        var rating = agent.Page.Locator("#csat");
        await Expect(rating).ToBeVisibleAsync();
        await Expect(rating.Locator(".stars")).ToHaveTextAsync("★★★★☆");
        await Expect(rating.Locator(".csat-comment")).ToHaveTextAsync("Quick and kind <b>really</b>");

        // The resolved filter lists it; reopen, snooze and reopen again from the console.
        var conversationId = await visitor.ConversationIdAsync();
        await agent.Page.Locator(".filters button[data-filter='resolved']").ClickAsync();
        await Expect(agent.Page.Locator($"li.conv[data-id='{conversationId}'] .status-resolved")).ToBeVisibleAsync();
        await agent.Page.Locator("#reopen-button").ClickAsync();
        await Expect(agent.Page.Locator("#resolve-button")).ToBeVisibleAsync();
        await Expect(agent.Page.Locator($"li.conv[data-id='{conversationId}']")).ToHaveCountAsync(0); // no longer resolved
        await Expect(csat).ToBeHiddenAsync();
        await agent.Page.Locator("#snooze-select").SelectOptionAsync("1h");
        await Expect(agent.Page.Locator("#chat-subtitle")).ToContainTextAsync("snoozed");
        await Expect(agent.Page.Locator("#details-list")).ToContainTextAsync("snoozed until");
        await agent.Page.Locator("#reopen-button").ClickAsync();
        await Expect(agent.Page.Locator("#chat-subtitle")).ToContainTextAsync("open");
    }

    [Fact]
    public async Task Agents_use_canned_replies_internal_notes_and_tags()
    {
        var shortcut = "ship" + Guid.NewGuid().ToString("N")[..6];
        await using (var admin = await ConsolePage.LoginAsync(fixture))
        {
            await admin.Page.Locator("#nav button[data-view='canned']").ClickAsync();
            var form = admin.Page.Locator("#canned-form");
            await form.Locator("input[name=shortcut]").FillAsync(shortcut);
            await form.Locator("textarea[name=text]").FillAsync("Orders ship within 24 hours.");
            await form.Locator("button[type=submit]").ClickAsync();
            await Expect(admin.Page.Locator("#canned-body")).ToContainTextAsync("/" + shortcut);
        }

        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        await using var visitor = await VisitorPage.OpenAsync(fixture);
        await visitor.OpenPanelAsync();
        await visitor.SendAsync("When will it ship?");
        await Expect(visitor.Message("When will it ship?")).ToHaveAttributeAsync("data-state", "sent");
        await agent.OpenConversationAsync(await visitor.ConversationIdAsync());

        await agent.Input.PressSequentiallyAsync("/" + shortcut[..5]);
        var suggestion = agent.Page.Locator($"#canned-suggestions li[data-shortcut='{shortcut}']");
        await Expect(suggestion).ToBeVisibleAsync();
        await agent.Input.PressAsync("Enter");
        await Expect(agent.Input).ToHaveValueAsync("Orders ship within 24 hours.");
        await agent.Input.PressAsync("Enter");
        await Expect(visitor.Message("Orders ship within 24 hours.")).ToHaveAttributeAsync("data-seq", "2");

        await agent.Page.Locator("#mode-note").ClickAsync();
        await agent.SendAsync("VIP customer: offer express shipping");
        var note = agent.Page.Locator("#log .note");
        await Expect(note).ToContainTextAsync("VIP customer: offer express shipping");
        await Expect(note).ToContainTextAsync("Internal note");

        await agent.Page.Locator("#tag-input").FillAsync("Shipping");
        await agent.Page.Locator("#tag-form button").ClickAsync();
        await Expect(agent.Page.Locator("#tags .tag")).ToContainTextAsync("shipping");
        await agent.Page.Locator("#priority").SelectOptionAsync("high");
        await Expect(agent.Page.Locator("li.conv.active .priority-high")).ToBeVisibleAsync();

        await agent.Page.Locator("#mode-reply").ClickAsync();
        await agent.SendAsync("Anything else?");
        await Expect(visitor.Message("Anything else?")).ToBeVisibleAsync();
        await Screenshots.SaveAsync(agent.Page, "console");
        Assert.DoesNotContain("VIP customer", await visitor.Widget.Locator(".log").TextContentAsync() ?? "");
    }

    [Fact]
    public async Task An_inbox_made_in_the_admin_pages_embeds_a_widget_that_asks_for_a_name_first()
    {
        var inboxId = "sales-" + Guid.NewGuid().ToString("N")[..6];
        string publicKey;
        await using (var admin = await ConsolePage.LoginAsync(fixture))
        {
            await admin.Page.Locator("#nav button[data-view='inboxes']").ClickAsync();
            var form = admin.Page.Locator("#inbox-form");
            await form.Locator("input[name=inboxId]").FillAsync(inboxId);
            await form.Locator("input[name=name]").FillAsync("Sales");
            await form.Locator("input[name=greeting]").FillAsync("Hi! Ask us anything about pricing.");
            await form.Locator("input[name=preChatForm]").CheckAsync();
            await form.Locator("button[type=submit]").ClickAsync();
            var card = admin.Page.Locator($".card[data-inbox='{inboxId}']");
            await Expect(card).ToBeVisibleAsync();
            publicKey = (await card.Locator(".public-key").TextContentAsync())!;
            Assert.Matches(PublicKey(), publicKey);
            await Expect(card.Locator("textarea.snippet")).ToHaveValueAsync($"<script src=\"{fixture.BaseUri.ToString().TrimEnd('/')}/widget.js\" data-inbox-key=\"{publicKey}\" async></script>");
            await Screenshots.SaveAsync(admin.Page, "console-inboxes");
        }

        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        await using var visitor = await VisitorPage.OpenAsync(fixture, path: $"/demo?inbox={inboxId}");
        Assert.Contains($"data-inbox-key=\"{publicKey}\"", await visitor.Page.ContentAsync());
        await visitor.OpenPanelAsync();
        var prechat = visitor.Widget.Locator("form.prechat");
        await Expect(prechat).ToBeVisibleAsync();
        await Expect(visitor.Widget.Locator("header h2")).ToHaveTextAsync("Chat with us"); // not the inbox's internal name
        await prechat.Locator("input[name=name]").FillAsync("Ana");
        await prechat.Locator("input[name=email]").FillAsync("ana@example.com");
        await prechat.Locator("button[type=submit]").ClickAsync();
        await Expect(visitor.Widget.Locator(".greeting")).ToHaveTextAsync("Hi! Ask us anything about pricing.");
        await visitor.SendAsync("How much is the pro plan?");
        await Expect(visitor.Message("How much is the pro plan?")).ToHaveAttributeAsync("data-state", "sent");

        await agent.OpenConversationByNameAsync("Ana");
        await Expect(agent.Message("How much is the pro plan?")).ToBeVisibleAsync();
        await Expect(agent.Page.Locator("#chat-subtitle")).ToContainTextAsync("inbox " + inboxId);
    }

    [Fact]
    public async Task New_messages_in_other_conversations_raise_unread_badges_the_title_count_a_notification_and_a_sound()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture, initScript: ConsolePage.AlertProbe);
        await using var one = await VisitorPage.OpenAsync(fixture);
        await one.OpenPanelAsync();
        await one.SendAsync("conversation one");
        await Expect(one.Message("conversation one")).ToHaveAttributeAsync("data-state", "sent");
        await using var two = await VisitorPage.OpenAsync(fixture);
        await two.OpenPanelAsync();
        await two.SendAsync("conversation two");
        await Expect(two.Message("conversation two")).ToHaveAttributeAsync("data-state", "sent");
        var twoId = await two.ConversationIdAsync();

        await agent.OpenConversationAsync(await one.ConversationIdAsync(), filter: "mine");
        await two.SendAsync("are you there?");
        var badge = agent.Page.Locator($"li.conv[data-id='{twoId}'] .badge");
        await Expect(badge).ToHaveTextAsync(UnreadBadge());
        await Expect(agent.Page).ToHaveTitleAsync(UnreadTitle());
        Assert.True(await agent.Page.EvaluateAsync<bool>("() => window.__notifications.some(n => n.body === 'are you there?')"));
        Assert.True(await agent.Page.EvaluateAsync<int>("() => window.__beeps") > 0);

        await agent.OpenConversationAsync(twoId, filter: "mine");
        await Expect(badge).ToHaveCountAsync(0);
        await Expect(agent.Page).ToHaveTitleAsync("Kefu console");
    }

    [GeneratedRegex("^pk_[A-Za-z0-9_-]+$")]
    private static partial Regex PublicKey();

    [GeneratedRegex("^[1-9][0-9]*$")]
    private static partial Regex UnreadBadge();

    [GeneratedRegex(@"^\([1-9][0-9]*\) Kefu console$")]
    private static partial Regex UnreadTitle();
}
