using System.Net;
using System.Text.Json;
using Kefu.Cluster.Tests.Infrastructure;
using Kefu.Contracts.Events;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Tests.Infrastructure;
using Kefu.Grains.Events;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Kefu.Cluster.Tests;

/// <summary>
/// Cluster mode: <c>GET /api/v1/events</c> on a gateway reads the MySQL outbox through a silo (gateway → event log
/// grain → MySqlEventLog), with the cursors, paging and filter of the embedded log.
/// </summary>
public sealed class EventsApiClusterTests
{
    [Fact]
    public async Task The_events_API_reads_the_MySQL_outbox_through_the_silos()
    {
        await using var cluster = await KefuTestCluster.StartAsync(silos: 1);
        var log = new MySqlEventLog(Options.Create(new MySqlMessageStoreOptions { ConnectionString = cluster.Database.ConnectionString }),
            Options.Create(new EventLogOptions()), TimeProvider.System, NullLogger<MySqlEventLog>.Instance);
        var conversation = Ulid.NewUlid().ToString();
        var messages = Enumerable.Range(1, 3).Select(seq => Message(conversation, seq)).ToList();
        var note = new DomainEvent(Ulid.NewUlid(), "default", conversation, 4, DateTimeOffset.UtcNow, new Causation(Causation.Agent, "admin"),
            new NoteCreated(new InternalNote("n-1", conversation, new Sender(ParticipantRole.Agent, "admin", null), "internal", DateTimeOffset.UtcNow)));
        // As the conversation grain does: each message with its event in one commit (the event's data is the message's row).
        await using (var store = new MySqlMessageStore(
            Options.Create(new MySqlMessageStoreOptions { ConnectionString = cluster.Database.ConnectionString }), NullLogger<MySqlMessageStore>.Instance))
        {
            foreach (var e in messages)
            {
                await store.AppendAsync("default", ((MessageCreated)e.Data).Message, [e]);
            }
        }

        await log.AppendAsync([note]);
        using var admin = cluster.Http(await cluster.LoginAsync());

        var seen = new List<JsonElement>();
        string? after = null;
        while (true)
        {
            var response = await admin.GetAsync($"/api/v1/events?limit=2{(after is null ? string.Empty : "&after=" + after)}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var page = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
            var events = page.GetProperty("events").EnumerateArray().ToList();
            seen.AddRange(events.Where(e => e.Str("conversationId") == conversation));
            after = page.Str("next");
            if (events.Count == 0)
            {
                break;
            }
        }

        Assert.Equal(messages.Select(e => e.Id.ToString()), seen.Select(e => e.Str("id")));
        Assert.Equal("m2", seen[1].GetProperty("data").GetProperty("message").Str("text"));
        var cursors = seen.Select(e => e.Str("cursor")!).ToList();
        Assert.Equal(cursors.Order(StringComparer.Ordinal), cursors);

        var notes = JsonDocument.Parse(await admin.GetStringAsync("/api/v1/events?types=note.created")).RootElement;
        Assert.Equal([note.Id.ToString()], notes.GetProperty("events").EnumerateArray().Select(e => e.Str("id")));
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync("/api/v1/events?after=nope")).StatusCode);
    }

    private static DomainEvent Message(string conversation, long seq)
    {
        var at = DateTimeOffset.UtcNow;
        var message = new ChatMessage(conversation, Ulid.NewUlid(), seq, new Sender(ParticipantRole.Visitor, "v-1", null), $"m{seq}", at, null);
        return new DomainEvent(Ulid.NewUlid(), "default", conversation, seq, at, new Causation(Causation.Visitor, "v-1"), new MessageCreated(message));
    }
}
