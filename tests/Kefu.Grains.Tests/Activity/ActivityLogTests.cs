using System.Text.Json;
using Kefu.Contracts.Events;
using Kefu.Contracts.Messages;
using Kefu.Grains.Activity;
using Kefu.Grains.Events;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Kefu.Grains.Tests.Activity;

/// <summary>
/// The timeline's plain parts: which conversation an event is about (<see cref="ActivitySubject"/>), the in-memory log's
/// by-conversation read (order, types, limit, retention), and the fields of each item type (<see cref="ActivityFields"/>).
/// </summary>
public sealed class ActivityLogTests
{
    private const string Tenant = "acme";
    private static readonly string C1 = Ulid.NewUlid().ToString();
    private static readonly string C2 = Ulid.NewUlid().ToString();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 9, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Tenant_level_events_belong_to_the_conversation_their_data_names()
    {
        Assert.Equal(C1, ActivitySubject.ConversationOf(Event(C1, Status("open", "resolved"))));
        Assert.Null(ActivitySubject.ConversationOf(Event(C1, Message(C1))));
        Assert.Null(ActivitySubject.ConversationOf(Event(C1, new NoteCreated(new InternalNote("n", C1, Ann, "x", _time.GetUtcNow())))));
        Assert.Equal(C2, ActivitySubject.ConversationOf(Event(null, Route(C2))));
        Assert.Equal(C2, ActivitySubject.ConversationOf(Event(null, Crm("conversation", C2))));
        Assert.Null(ActivitySubject.ConversationOf(Event(null, Crm("contact", "k-1"))));
        Assert.Null(ActivitySubject.ConversationOf(Event(null, Route(null))));
        Assert.Equal(C2, ActivitySubject.FromJson($$"""{"conversationId":"{{C2}}","mailId":"m","kind":"transcript"}"""));
        Assert.Null(ActivitySubject.FromJson("""{"conversationId":7}"""));
        Assert.Null(ActivitySubject.FromJson("not json"));
    }

    [Fact]
    public async Task The_in_memory_log_reads_one_conversations_items_in_order_by_type_and_limit()
    {
        var log = new InMemoryEventLog(Options.Create(new EventLogOptions { Retention = TimeSpan.FromHours(1) }), _time);
        await log.AppendAsync([Event(C1, Message(C1)), Event(C1, Status("queued", "open")), Event(C2, Status("queued", "open"))]);
        _time.Advance(TimeSpan.FromMinutes(40));
        await log.AppendAsync([Event(null, Route(C1)), Event(C1, Message(C1)), Event(null, Crm("conversation", C1)), Event(C1, Status("open", "resolved"))]);

        var all = await log.ReadConversationAsync(Tenant, C1, 0, ActivityTypes.All, 100);
        Assert.Equal([EventTypes.ConversationStatusChanged, EventTypes.RouteExecuted, EventTypes.CrmSyncFailed, EventTypes.ConversationStatusChanged],
            all.Events.Select(e => e.Type));
        Assert.Equal(all.Events[^1].Cursor, all.Next);

        var two = await log.ReadConversationAsync(Tenant, C1, 0, ActivityTypes.All, 2);
        Assert.Equal(all.Events.Take(2).Select(e => e.Cursor), two.Events.Select(e => e.Cursor));
        var rest = await log.ReadConversationAsync(Tenant, C1, two.Next, ActivityTypes.All, 100);
        Assert.Equal(all.Events.Skip(2).Select(e => e.Cursor), rest.Events.Select(e => e.Cursor));
        var routesOnly = await log.ReadConversationAsync(Tenant, C1, 0, [EventTypes.RouteExecuted], 100);
        Assert.Equal([EventTypes.RouteExecuted], routesOnly.Events.Select(e => e.Type));
        Assert.Empty((await log.ReadConversationAsync("other", C1, 0, ActivityTypes.All, 100)).Events);
        Assert.Equal(7, (await log.ReadConversationAsync(Tenant, Ulid.NewUlid().ToString(), 7, ActivityTypes.All, 100)).Next);

        // Retention drops the old items from the conversation's index too.
        _time.Advance(TimeSpan.FromMinutes(30));
        var kept = await log.ReadConversationAsync(Tenant, C1, 0, ActivityTypes.All, 100);
        Assert.Equal(all.Events.Skip(1).Select(e => e.Cursor), kept.Events.Select(e => e.Cursor));
        Assert.Empty((await log.ReadConversationAsync(Tenant, C2, 0, ActivityTypes.All, 100)).Events);
    }

    [Fact]
    public void Each_item_type_gets_the_fields_its_line_shows_with_agent_names()
    {
        var names = new Dictionary<string, string> { ["ann"] = "Ann", ["bo"] = "Bo" };
        string? NameOf(string id) => names.GetValueOrDefault(id);
        JsonElement FieldsOf(EventData data) => JsonDocument.Parse(ActivityFields.For(Stored(data.Type, EventJson.Data(data)), NameOf)).RootElement;

        var summary = Summary() with { Tags = ["vip"], Priority = "urgent", SnoozedUntil = _time.GetUtcNow().AddHours(1) };
        var assigned = FieldsOf(new ConversationAssigned("bo", null, "ann", summary));
        Assert.Equal(("bo", "Bo", "ann", "Ann"), (Str(assigned, "agentId"), Str(assigned, "agentName"), Str(assigned, "previousAgentId"), Str(assigned, "previousAgentName")));
        var transferred = FieldsOf(new ConversationTransferred("ann", null, "billing", summary));
        Assert.Equal(("ann", "Ann", "billing"), (Str(transferred, "fromAgentId"), Str(transferred, "fromAgentName"), Str(transferred, "toTeam")));
        Assert.False(transferred.TryGetProperty("toAgentId", out _));
        var snoozed = FieldsOf(new ConversationStatusChanged("open", "snoozed", summary));
        Assert.Equal(("open", "snoozed"), (Str(snoozed, "from"), Str(snoozed, "to")));
        Assert.True(snoozed.TryGetProperty("snoozedUntil", out _));
        Assert.False(FieldsOf(new ConversationStatusChanged("snoozed", "open", summary)).TryGetProperty("snoozedUntil", out _));
        var updated = FieldsOf(new ConversationUpdated(["tags", "priority"], summary));
        Assert.Equal(["vip"], updated.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("urgent", Str(updated, "priority"));
        Assert.Equal(2, updated.GetProperty("changed").GetArrayLength());
        var rated = FieldsOf(new ConversationRated(new CsatRating(5, "great", _time.GetUtcNow()), summary));
        Assert.Equal((5, "great"), (rated.GetProperty("rating").GetInt32(), Str(rated, "comment")));
        var route = FieldsOf(Route(C1) with { Outcome = RouteOutcomes.Failed, Error = "ERP down" });
        Assert.Equal(("vip", "failed", "ERP down"), (Str(route, "routeId"), Str(route, "outcome"), Str(route, "error")));
        var crm = FieldsOf(Crm("conversation", C1));
        Assert.Equal(("acme-crm", 3, 502), (Str(crm, "crm"), crm.GetProperty("attempts").GetInt32(), crm.GetProperty("httpStatus").GetInt32()));

        // Email results are read from their JSON by type name.
        var sent = JsonDocument.Parse(ActivityFields.For(Stored(ActivityTypes.EmailSent,
            $$"""{"conversationId":"{{C1}}","mailId":"m1","kind":"offline_reply","to":"eve@example.com","subject":"Re: order"}"""), NameOf)).RootElement;
        Assert.Equal(("offline_reply", "eve@example.com", "Re: order"), (Str(sent, "kind"), Str(sent, "to"), Str(sent, "subject")));
        Assert.False(sent.TryGetProperty("conversationId", out _));
        var failed = JsonDocument.Parse(ActivityFields.For(Stored(ActivityTypes.EmailFailed,
            """{"mailId":"m2","kind":"transcript","to":"eve@example.com","error":"550 no such user","bounced":true,"attempts":1}"""), NameOf)).RootElement;
        Assert.True(failed.GetProperty("bounced").GetBoolean());
        Assert.Equal("550 no such user", Str(failed, "error"));
        Assert.Equal("{}", ActivityFields.For(Stored(ActivityTypes.EmailSent, "not json"), NameOf));
    }

    private static readonly Sender Ann = new(ParticipantRole.Agent, "ann", "Ann");

    private static string? Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.GetString() : null;

    private DomainEvent Event(string? conversationId, EventData data) =>
        new(Ulid.NewUlid(_time.GetUtcNow()), Tenant, conversationId, conversationId is null ? 0 : 1, _time.GetUtcNow(), Causation.Of("test"), data);

    private StoredEvent Stored(string type, string json) =>
        new(1, Ulid.NewUlid(), type, Tenant, C1, 1, _time.GetUtcNow(), Causation.Of("test"), json);

    private MessageCreated Message(string conversationId) =>
        new(new ChatMessage(conversationId, Ulid.NewUlid(), 1, Ann, "hi", _time.GetUtcNow(), null));

    private ConversationStatusChanged Status(string from, string to) => new(from, to, Summary());

    private ConversationSummary Summary() => new(C1, Tenant, "default", "v-1", "Eve", ConversationStatus.Open, "ann", 3, _time.GetUtcNow(), ["ann"]);

    private static RouteExecuted Route(string? conversationId) =>
        new("trigger", EventTypes.ConversationUpdated, "hash", "vip", RouteOutcomes.Succeeded, [], 5, 100, conversationId);

    private CrmSyncFailed Crm(string kind, string recordId) => new("acme-crm", kind, recordId, 3, "bad gateway", 502, _time.GetUtcNow());
}
