using System.Globalization;
using System.Net;
using System.Text.Json;
using Kefu.Contracts.Events;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;
using Kefu.Grains.Events;
using Microsoft.Extensions.DependencyInjection;

namespace Kefu.Gateway.Tests.Events;

/// <summary>
/// <c>GET /api/v1/events</c> (INTEGRATION.md §2, docs/integration.md): admin only, cursor paging, the types filter and
/// bad input. Events are put into the embedded silo's outbox directly, so these tests do not depend on which grain
/// operations emit what.
/// </summary>
[Collection(EventsGatewayCollection.Name)]
public sealed class EventsApiTests(EventsGatewayFixture gateway)
{
    [Fact]
    public async Task Only_admins_read_events()
    {
        using var anonymous = gateway.Http();
        Assert.Equal("unauthorized", await Desk.ProblemCode(await anonymous.GetAsync("/api/v1/events"), HttpStatusCode.Unauthorized));

        var (_, agentToken) = await gateway.CreateAgentAsync();
        using var agent = gateway.Http(agentToken);
        Assert.Equal("not_allowed", await Desk.ProblemCode(await agent.GetAsync("/api/v1/events"), HttpStatusCode.Forbidden));

        var (_, visitorToken) = await gateway.CreateVisitorAsync();
        using var visitor = gateway.Http(visitorToken);
        Assert.Equal(HttpStatusCode.Forbidden, (await visitor.GetAsync("/api/v1/events")).StatusCode);

        using var admin = gateway.Http(await gateway.LoginAsync());
        var page = await Desk.Ok(await admin.GetAsync("/api/v1/events"));
        Assert.Equal(JsonValueKind.Array, page.GetProperty("events").ValueKind);
        Assert.True(EventCursor.TryParse(page.Str("next"), out _));
    }

    [Fact]
    public async Task Pages_follow_next_in_cursor_order_with_the_whole_envelope()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var head = await HeadAsync(admin);
        var conversation = Ulid.NewUlid().ToString();
        var written = Enumerable.Range(1, 7).Select(seq => Message(conversation, seq)).ToList();
        await Log.AppendAsync(written);

        var seen = new List<JsonElement>();
        var after = head;
        for (var pages = 0; pages < 3; pages++)
        {
            var page = await Desk.Ok(await admin.GetAsync($"/api/v1/events?after={after}&limit=3"));
            seen.AddRange(page.GetProperty("events").EnumerateArray());
            after = page.Str("next")!;
        }

        Assert.Equal(written.Select(e => e.Id.ToString()), seen.Select(e => e.Str("id")));
        var cursors = seen.Select(e => e.Str("cursor")!).ToList();
        Assert.Equal(cursors.Order(StringComparer.Ordinal), cursors);
        Assert.Equal(cursors.Count, cursors.Distinct().Count());
        Assert.Equal(cursors[^1], after);
        var empty = await Desk.Ok(await admin.GetAsync($"/api/v1/events?after={after}"));
        Assert.Empty(empty.GetProperty("events").EnumerateArray());
        Assert.Equal(after, empty.Str("next"));

        var first = seen[0];
        var e1 = written[0];
        Assert.Equal("message.created", first.Str("type"));
        Assert.Equal(Tenancy.DefaultTenant, first.Str("tenant"));
        Assert.Equal(EventJson.Time(e1.Time), first.Str("time"));
        Assert.Equal(conversation, first.Str("conversationId"));
        Assert.Equal(1, first.Long("seq"));
        Assert.Equal("visitor", first.GetProperty("causation").Str("kind"));
        Assert.Equal("v-1", first.GetProperty("causation").Str("id"));
        var message = first.GetProperty("data").GetProperty("message");
        Assert.Equal("m1", message.Str("text"));
        Assert.Equal("text", message.GetProperty("content").Str("kind"));
    }

    [Fact]
    public async Task Types_filter_and_notes_only_by_name()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var head = await HeadAsync(admin);
        var conversation = Ulid.NewUlid().ToString();
        var note = Note(conversation, 2);
        await Log.AppendAsync([Message(conversation, 1), note, Message(conversation, 3)]);

        var all = await Desk.Ok(await admin.GetAsync($"/api/v1/events?after={head}"));
        Assert.Equal(["message.created", "message.created"], Types(all));

        var notes = await Desk.Ok(await admin.GetAsync($"/api/v1/events?after={head}&types=note.created"));
        Assert.Equal(["note.created"], Types(notes));
        Assert.Equal(note.Id.ToString(), notes.GetProperty("events")[0].Str("id"));
        Assert.Equal("internal", notes.GetProperty("events")[0].GetProperty("data").GetProperty("note").Str("text"));
        Assert.Equal(all.Str("next"), notes.Str("next")); // skipped events are not scanned again

        var both = await Desk.Ok(await admin.GetAsync($"/api/v1/events?after={head}&types=message.created,note.created"));
        Assert.Equal(["message.created", "note.created", "message.created"], Types(both));
        var repeated = await Desk.Ok(await admin.GetAsync($"/api/v1/events?after={head}&types=note.created&types=conversation.created"));
        Assert.Equal(["note.created"], Types(repeated));
        var none = await Desk.Ok(await admin.GetAsync($"/api/v1/events?after={head}&types=contact.updated"));
        Assert.Empty(Types(none));
    }

    [Theory]
    [InlineData("after=xyz", "invalid_cursor")]
    [InlineData("after=", "invalid_cursor")]
    [InlineData("after=000000000000000A", "invalid_cursor")]
    [InlineData("after=00000000000000001", "invalid_cursor")]
    [InlineData("after=-000000000000001", "invalid_cursor")]
    [InlineData("after=0000000000000001&after=0000000000000002", "invalid_cursor")]
    [InlineData("limit=0", "invalid_field")]
    [InlineData("limit=501", "invalid_field")]
    [InlineData("limit=-1", "invalid_field")]
    [InlineData("limit=ten", "invalid_field")]
    [InlineData("limit=", "invalid_field")]
    [InlineData("types=message.deleted", "invalid_field")]
    [InlineData("types=message.created,", "invalid_field")]
    [InlineData("types=", "invalid_field")]
    [InlineData("types=MESSAGE.CREATED", "invalid_field")]
    public async Task Bad_input_is_a_problem_with_a_code(string query, string code)
    {
        using var admin = gateway.Http(await gateway.LoginAsync());

        Assert.Equal(code, await Desk.ProblemCode(await admin.GetAsync($"/api/v1/events?{query}"), HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task Limit_defaults_to_100_and_goes_up_to_500()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var head = await HeadAsync(admin);
        var conversation = Ulid.NewUlid().ToString();
        await Log.AppendAsync([.. Enumerable.Range(1, 501).Select(seq => Message(conversation, seq))]);

        Assert.Equal(100, Types(await Desk.Ok(await admin.GetAsync($"/api/v1/events?after={head}"))).Length);
        Assert.Equal(500, Types(await Desk.Ok(await admin.GetAsync($"/api/v1/events?after={head}&limit=500"))).Length);
        Assert.Single(Types(await Desk.Ok(await admin.GetAsync($"/api/v1/events?after={head}&limit=1"))));
    }

    [Fact]
    public async Task A_cursor_behind_retention_is_gone_and_reading_from_the_oldest_still_works()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var head = await HeadAsync(admin);
        var conversation = Ulid.NewUlid().ToString();

        // Older than the retention (30 days): the in-memory log drops it as it stores the next events.
        var expired = Message(conversation, 1, DateTimeOffset.UtcNow.AddDays(-31));
        await Log.AppendAsync([expired]);
        var kept = Message(conversation, 2);
        await Log.AppendAsync([kept]);

        Assert.Equal("cursor_expired", await Desk.ProblemCode(await admin.GetAsync($"/api/v1/events?after={head}"), HttpStatusCode.Gone));
        var oldest = await Desk.Ok(await admin.GetAsync("/api/v1/events?limit=500"));
        Assert.DoesNotContain(oldest.GetProperty("events").EnumerateArray(), e => e.Str("id") == expired.Id.ToString());
        var current = await Desk.Ok(await admin.GetAsync($"/api/v1/events?after={await HeadAsync(admin)}"));
        Assert.Empty(current.GetProperty("events").EnumerateArray());
    }

    private IEventLog Log => gateway.Services.GetRequiredService<IEventLog>();

    /// <summary>The cursor after everything stored so far: read from the oldest retained event to the end.</summary>
    private static async Task<string> HeadAsync(HttpClient admin)
    {
        var page = await Desk.Ok(await admin.GetAsync("/api/v1/events?limit=500"));
        while (page.GetProperty("events").GetArrayLength() > 0)
        {
            page = await Desk.Ok(await admin.GetAsync($"/api/v1/events?limit=500&after={page.Str("next")}"));
        }

        return page.Str("next")!;
    }

    private static string[] Types(JsonElement page) => [.. page.GetProperty("events").EnumerateArray().Select(e => e.Str("type")!)];

    private static DomainEvent Message(string conversation, long seq, DateTimeOffset? time = null)
    {
        var at = time ?? DateTimeOffset.UtcNow;
        var message = new ChatMessage(conversation, Ulid.NewUlid(), seq, new Sender(ParticipantRole.Visitor, "v-1", "Visitor"),
            "m" + seq.ToString(CultureInfo.InvariantCulture), at, null);
        return new DomainEvent(Ulid.NewUlid(), Tenancy.DefaultTenant, conversation, seq, at, new Causation(Causation.Visitor, "v-1", "Visitor"), new MessageCreated(message));
    }

    private static DomainEvent Note(string conversation, long seq) =>
        new(Ulid.NewUlid(), Tenancy.DefaultTenant, conversation, seq, DateTimeOffset.UtcNow, new Causation(Causation.Agent, "alice"),
            new NoteCreated(new InternalNote("n-1", conversation, new Sender(ParticipantRole.Agent, "alice", "Alice"), "internal", DateTimeOffset.UtcNow)));
}
