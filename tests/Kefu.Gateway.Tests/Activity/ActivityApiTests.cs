using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Contracts.Events;
using Kefu.Contracts.Identity;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;
using Kefu.Grains.Events;
using Microsoft.Extensions.DependencyInjection;

namespace Kefu.Gateway.Tests.Activity;

/// <summary>
/// GET /api/v1/conversations/{id}/activity: who did what to a conversation, from the event log, in order, for the agents
/// who may read its notes; and @mentions in notes reaching the mentioned agent's console.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class ActivityApiTests(GatewayFixture gateway)
{
    [Fact]
    public async Task The_timeline_lists_every_kind_of_item_in_order_with_who_did_it()
    {
        var desk = await Desk.CreateAsync(gateway, agents: 2, capacity: 3);
        var (ann, annToken) = desk.Agents[0];
        var (bo, boToken) = desk.Agents[1];
        await using var annSocket = await gateway.ConnectAsync(annToken);
        var (_, visitorToken, visitor) = await desk.VisitorAsync();
        await using var _ = visitor;
        var conversationId = (await visitor.SendMessageAsync("hello")).Str("conversationId")!;
        await desk.WaitForAsync(conversationId, c => c.Str("assigneeId") == ann, "assigned to ann");
        await using var boSocket = await gateway.ConnectAsync(boToken);
        using var annHttp = gateway.Http(annToken);
        using var boHttp = gateway.Http(boToken);

        await Desk.Ok(await annHttp.PatchAsJsonAsync($"/api/v1/conversations/{conversationId}", new { tags = new[] { "billing" }, priority = "high" }));
        await Desk.Ok(await annHttp.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/notes", new { text = "not a timeline item" }));
        await Desk.Ok(await annHttp.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/transfer", new { agentId = bo }));
        var until = DateTimeOffset.UtcNow.AddHours(2);
        await Desk.Ok(await boHttp.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/status", new { status = "snoozed", snoozedUntil = until }));
        await Desk.Ok(await boHttp.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/status", new { status = "resolved" }));
        using var visitorHttp = gateway.Http(visitorToken);
        await Desk.Ok(await visitorHttp.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/csat", new { rating = 4, comment = "ok" }));

        // Tenant-level events about the conversation: its id is only in their data.
        var log = gateway.Services.GetRequiredService<IEventLog>();
        var now = DateTimeOffset.UtcNow;
        await log.AppendAsync(
        [
            new DomainEvent(Ulid.NewUlid(), Tenancy.DefaultTenant, null, 0, now, new Causation(Causation.Rule, "vip-route"),
                new RouteExecuted("trigger-1", EventTypes.ConversationUpdated, "hash", "vip-route", RouteOutcomes.Succeeded, [], 12, 100, conversationId)),
            new DomainEvent(Ulid.NewUlid(), Tenancy.DefaultTenant, null, 0, now, Causation.Of("crm"),
                new CrmSyncFailed("acme", "conversation", conversationId, 5, "HTTP 500", 500, now)),
            new DomainEvent(Ulid.NewUlid(), Tenancy.DefaultTenant, null, 0, now, Causation.Of("crm"),
                new CrmSyncFailed("acme", "contact", conversationId, 5, "a contact record, not this conversation", 500, now)),
        ]);

        var page = await Desk.Ok(await boHttp.GetAsync($"/api/v1/conversations/{conversationId}/activity"));
        var items = page.GetProperty("items").EnumerateArray().ToList();
        var types = items.Select(i => i.Str("type")!).ToList();
        Assert.DoesNotContain("message.created", types);
        Assert.DoesNotContain("note.created", types);
        Assert.Equal(1, types.Count(t => t == "crm.sync_failed"));
        var cursors = items.Select(i => i.Str("cursor")!).ToList();
        Assert.Equal(cursors.Order(StringComparer.Ordinal), cursors);
        Assert.Equal(cursors[^1], page.Str("next"));

        // In the order things happened.
        var assignedToAnn = Index(items, i => i.Str("type") == "conversation.assigned" && Fields(i).Str("agentId") == ann);
        var updated = Index(items, i => i.Str("type") == "conversation.updated");
        var transferred = Index(items, i => i.Str("type") == "conversation.transferred");
        var assignedToBo = Index(items, i => i.Str("type") == "conversation.assigned" && Fields(i).Str("agentId") == bo);
        var snoozed = Index(items, i => i.Str("type") == "conversation.status_changed" && Fields(i).Str("to") == "snoozed");
        var resolved = Index(items, i => i.Str("type") == "conversation.status_changed" && Fields(i).Str("to") == "resolved");
        var rated = Index(items, i => i.Str("type") == "conversation.rated");
        var route = Index(items, i => i.Str("type") == "route.executed");
        var crm = Index(items, i => i.Str("type") == "crm.sync_failed");
        Assert.True(assignedToAnn < updated && updated < transferred && transferred <= assignedToBo && assignedToBo < snoozed
            && snoozed < resolved && resolved < rated && rated < route && route < crm, string.Join(", ", types));

        // Who did it, and the fields each line shows.
        Assert.Equal("system", items[assignedToAnn].GetProperty("actor").Str("kind"));
        Assert.Equal(["billing"], Fields(items[updated]).GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("high", Fields(items[updated]).Str("priority"));
        var transfer = items[transferred];
        Assert.Equal(("agent", ann), (transfer.GetProperty("actor").Str("kind"), transfer.GetProperty("actor").Str("id")));
        Assert.Equal(ann, Fields(transfer).Str("fromAgentId"));
        Assert.Equal(bo, Fields(transfer).Str("toAgentId"));
        Assert.NotNull(Fields(transfer).Str("toAgentName"));
        Assert.Equal(until.UtcDateTime, Fields(items[snoozed]).GetProperty("snoozedUntil").GetDateTime().ToUniversalTime(), TimeSpan.FromMilliseconds(1));
        Assert.Equal(bo, items[resolved].GetProperty("actor").Str("id"));
        Assert.Equal(4, Fields(items[rated]).GetProperty("rating").GetInt32());
        Assert.Equal("visitor", items[rated].GetProperty("actor").Str("kind"));
        Assert.Equal(("rule", "vip-route"), (items[route].GetProperty("actor").Str("kind"), items[route].GetProperty("actor").Str("id")));
        Assert.Equal("succeeded", Fields(items[route]).Str("outcome"));
        Assert.Equal("acme", Fields(items[crm]).Str("crm"));
        Assert.Equal(500, Fields(items[crm]).GetProperty("httpStatus").GetInt32());

        // Paging: limit, then after the page's next; nothing after the last item.
        var first = await Desk.Ok(await boHttp.GetAsync($"/api/v1/conversations/{conversationId}/activity?limit=2"));
        Assert.Equal(cursors.Take(2), first.GetProperty("items").EnumerateArray().Select(i => i.Str("cursor")!));
        var rest = await Desk.Ok(await boHttp.GetAsync($"/api/v1/conversations/{conversationId}/activity?after={first.Str("next")}&limit=200"));
        Assert.Equal(cursors.Skip(2), rest.GetProperty("items").EnumerateArray().Select(i => i.Str("cursor")!));
        var end = await Desk.Ok(await boHttp.GetAsync($"/api/v1/conversations/{conversationId}/activity?after={page.Str("next")}"));
        Assert.Empty(end.GetProperty("items").EnumerateArray());
        Assert.Equal(page.Str("next"), end.Str("next"));
    }

    [Fact]
    public async Task Only_agents_who_may_read_the_notes_see_the_timeline_and_bad_queries_are_refused()
    {
        var desk = await Desk.CreateAsync(gateway, agents: 2, capacity: 3);
        var (ann, annToken) = desk.Agents[0];
        await using var annSocket = await gateway.ConnectAsync(annToken);
        var (_, visitorToken, visitor) = await desk.VisitorAsync();
        await using var _ = visitor;
        var conversationId = (await visitor.SendMessageAsync("hello")).Str("conversationId")!;
        await desk.WaitForAsync(conversationId, c => c.Str("assigneeId") == ann, "assigned to ann");
        var path = $"/api/v1/conversations/{conversationId}/activity";

        using var anonymous = gateway.Http();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(path)).StatusCode);
        using var visitorHttp = gateway.Http(visitorToken);
        Assert.Equal(HttpStatusCode.Forbidden, (await visitorHttp.GetAsync(path)).StatusCode);
        using var boHttp = gateway.Http(desk.Agents[1].Token);
        Assert.Equal("not_allowed", await Desk.ProblemCode(await boHttp.GetAsync(path), HttpStatusCode.Forbidden));
        Assert.Equal(HttpStatusCode.OK, (await desk.Admin.GetAsync(path)).StatusCode);

        using var annHttp = gateway.Http(annToken);
        Assert.Equal("not_found", await Desk.ProblemCode(await annHttp.GetAsync($"/api/v1/conversations/{Ulid.NewUlid()}/activity"), HttpStatusCode.NotFound));
        Assert.Equal("not_found", await Desk.ProblemCode(await annHttp.GetAsync("/api/v1/conversations/not-a-ulid/activity"), HttpStatusCode.NotFound));
        foreach (var query in new[] { "?limit=0", "?limit=201", "?limit=ten", "?limit=1&limit=2" })
        {
            Assert.Equal("invalid_field", await Desk.ProblemCode(await annHttp.GetAsync(path + query), HttpStatusCode.BadRequest));
        }

        Assert.Equal("invalid_cursor", await Desk.ProblemCode(await annHttp.GetAsync(path + "?after=12"), HttpStatusCode.BadRequest));
        var one = await Desk.Ok(await annHttp.GetAsync(path + "?limit=1"));
        Assert.Single(one.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task A_mention_in_a_note_reaches_the_mentioned_agents_console_even_outside_the_conversation()
    {
        var desk = await Desk.CreateAsync(gateway, agents: 2, capacity: 3);
        var (ann, annToken) = desk.Agents[0];
        var (bo, boToken) = desk.Agents[1];
        await using var annSocket = await gateway.ConnectAsync(annToken);
        var (_, _, visitor) = await desk.VisitorAsync();
        await using var _ = visitor;
        var conversationId = (await visitor.SendMessageAsync("hello")).Str("conversationId")!;
        await desk.WaitForAsync(conversationId, c => c.Str("assigneeId") == ann, "assigned to ann");
        await using var boSocket = await gateway.ConnectAsync(boToken);

        using var annHttp = gateway.Http(annToken);
        var text = $"@{ann} note to self, mail x@{bo}, and @{bo.ToUpperInvariant()}: can you check the refund?";
        await Desk.Ok(await annHttp.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/notes", new { text }));

        var mention = (await boSocket.ReceiveUntilAsync("mention"))[^1];
        Assert.Equal(conversationId, mention.Str("conversationId"));
        Assert.Equal(text, mention.GetProperty("note").Str("text"));
        Assert.Equal(ann, mention.GetProperty("note").GetProperty("author").Str("id"));

        // The author mentioned itself: it gets the note (it is in the conversation) and no mention before the next frame.
        await annHttp.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/notes", new { text = "marker" });
        var annFrames = await annSocket.ReceiveUntilAsync("note", f => f.GetProperty("note").Str("text") == "marker");
        Assert.DoesNotContain(annFrames, f => f.Type() == "mention");
    }

    private static JsonElement Fields(JsonElement item) => item.GetProperty("fields");

    private static int Index(List<JsonElement> items, Func<JsonElement, bool> match)
    {
        var index = items.FindIndex(i => match(i));
        Assert.True(index >= 0, "missing item in " + string.Join(", ", items.Select(i => i.GetRawText())));
        return index;
    }
}
