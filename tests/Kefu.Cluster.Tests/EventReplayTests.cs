using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Cluster.Tests.Infrastructure;
using Kefu.Gateway.Tests.Infrastructure;
using MySqlConnector;

namespace Kefu.Cluster.Tests;

/// <summary>
/// The outbox on real processes and a real MariaDB (issue #13): an event exists if and only if its change is durable.
/// Faults are made deterministic by taking a table away (RENAME TABLE) at the moment that matters.
/// </summary>
public sealed class EventReplayTests
{
    private static readonly TimeSpan GiveUp = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Events_committed_with_a_change_are_replayed_once_after_the_silo_is_killed()
    {
        await using var cluster = await KefuTestCluster.StartAsync(silos: 2);
        var admin = await cluster.LoginAsync();
        using var http = cluster.Http(admin);

        var (_, visitorToken) = await cluster.CreateVisitorAsync();
        await using var visitor = await cluster.ConnectAsync(visitorToken);
        var conversationId = (await visitor.SendMessageAsync("hello")).Str("conversationId")!;
        await using (var desk = await cluster.ConnectAsync(admin))
        {
            await desk.SendAsync(new { type = "join", conversationId });
            await desk.ReceiveUntilAsync("joined");
            await desk.SendMessageAsync("how can I help?", conversationId);
        }

        // Created, the visitor's message, the away message (nobody was online), open and assigned by the join, the reply.
        await WaitForEventsAsync(http, conversationId, 6);

        // The status change is written with its event in the conversation's state, but the outbox table is gone, so the
        // relay fails; then the silo holding the conversation dies before anything could retry.
        var victim = await cluster.SiloHostingAsync(conversationId);
        await SqlAsync(cluster, "RENAME TABLE kefu_event TO kefu_event_away");
        var changed = await http.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/status", new { status = "pending" });
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        await victim.KillAsync();
        await SqlAsync(cluster, "RENAME TABLE kefu_event_away TO kefu_event");

        // The conversation comes back on the other silo (any call activates it) and relays what was pending.
        var summary = await RetryAsync(() => http.GetFromJsonAsync<JsonElement>($"/api/v1/conversations/{conversationId}"));
        Assert.Equal("pending", summary.Str("status"));
        var events = await WaitForEventsAsync(http, conversationId, 7);

        Assert.Equal(
            ["conversation.created", "message.created", "message.created", "conversation.status_changed", "conversation.assigned", "message.created", "conversation.status_changed"],
            events.Select(e => e.Str("type")));
        Assert.Equal([1L, 2, 3, 4, 5, 6, 7], events.Select(e => e.Long("seq")));
        Assert.Equal(events.Count, events.Select(e => e.Str("id")).Distinct().Count());
        var statusChanged = events[^1].GetProperty("data");
        Assert.Equal("open", statusChanged.Str("from"));
        Assert.Equal("pending", statusChanged.Str("to"));

        // A visitor message after the restart reopens the conversation (back to the queue: nobody is online) and
        // continues the sequence, once each.
        await using var again = await cluster.ConnectAsync(visitorToken);
        await again.SendMessageAsync("still there?", conversationId);
        events = await WaitForEventsAsync(http, conversationId, 9);
        Assert.Equal(["conversation.status_changed", "message.created"], events[7..].Select(e => e.Str("type")));
        Assert.Equal("still there?", events[8].GetProperty("data").GetProperty("message").Str("text"));
        Assert.Equal(Enumerable.Range(1, 9).Select(i => (long)i), events.Select(e => e.Long("seq")));
    }

    [Fact]
    public async Task A_write_that_fails_produces_no_event_and_its_retry_produces_one()
    {
        await using var cluster = await KefuTestCluster.StartAsync(silos: 1);
        var admin = await cluster.LoginAsync();
        using var http = cluster.Http(admin);
        var (_, visitorToken) = await cluster.CreateVisitorAsync();
        await using var visitor = await cluster.ConnectAsync(visitorToken);
        var conversationId = (await visitor.SendMessageAsync("first")).Str("conversationId")!;
        await WaitForEventsAsync(http, conversationId, 3); // created, the message, the away message

        // The message table is gone: the send fails and neither the message nor its event exists.
        await SqlAsync(cluster, "RENAME TABLE kefu_message TO kefu_message_away");
        await visitor.SendAsync(new { type = "send", clientMsgId = "lost-then-retried", text = "second", conversationId });
        var refused = (await visitor.ReceiveUntilAsync("error")).Last();
        Assert.Equal("lost-then-retried", refused.Str("ref"));
        await SqlAsync(cluster, "RENAME TABLE kefu_message_away TO kefu_message");

        // The lifecycle state cannot be written: the change fails and has no event either.
        await SqlAsync(cluster, "RENAME TABLE orleans_grain_state TO orleans_grain_state_away");
        var patched = await http.PatchAsJsonAsync($"/api/v1/conversations/{conversationId}", new { tags = (string[])["vip"] });
        Assert.False(patched.IsSuccessStatusCode, $"the tag change succeeded without its storage: {patched.StatusCode}");
        await SqlAsync(cluster, "RENAME TABLE orleans_grain_state_away TO orleans_grain_state");

        var events = await ReadConversationEventsAsync(http, conversationId);
        Assert.Equal(["conversation.created", "message.created", "message.created"], events.Select(e => e.Str("type")));

        // Both retried: one event each, the message's data naming the retried clientMsgId.
        var ack = await RetryAsync(() => visitor.SendMessageAsync("second", conversationId, "lost-then-retried"));
        Assert.Equal(3, ack.Long("seq"));
        var tagged = await RetryAsync(async () => (await http.PatchAsJsonAsync($"/api/v1/conversations/{conversationId}", new { tags = (string[])["vip"] })).EnsureSuccessStatusCode());
        Assert.Equal(HttpStatusCode.OK, tagged.StatusCode);

        events = await WaitForEventsAsync(http, conversationId, 5);
        Assert.Equal(["conversation.created", "message.created", "message.created", "message.created", "conversation.updated"], events.Select(e => e.Str("type")));
        Assert.Equal("lost-then-retried", events[3].GetProperty("data").GetProperty("message").Str("clientMsgId"));
        Assert.Equal([1L, 2, 3, 4, 5], events.Select(e => e.Long("seq")));
    }

    /// <summary>Every event of the conversation through the events API, in cursor order.</summary>
    private static async Task<List<JsonElement>> ReadConversationEventsAsync(HttpClient http, string conversationId)
    {
        var all = new List<JsonElement>();
        var after = string.Empty;
        while (true)
        {
            var query = after.Length == 0 ? "/api/v1/events?limit=500" : $"/api/v1/events?limit=500&after={after}";
            var page = await http.GetFromJsonAsync<JsonElement>(query);
            var events = page.GetProperty("events").EnumerateArray().ToList();
            all.AddRange(events.Where(e => e.Str("conversationId") == conversationId));
            var next = page.Str("next")!;
            if (events.Count == 0 || next == after)
            {
                return all;
            }

            after = next;
        }
    }

    /// <summary>Waits until the conversation has <paramref name="count"/> events, and asserts it has no more.</summary>
    internal static async Task<List<JsonElement>> WaitForEventsAsync(HttpClient http, string conversationId, int count)
    {
        var deadline = DateTime.UtcNow + GiveUp;
        while (true)
        {
            var events = await RetryAsync(() => ReadConversationEventsAsync(http, conversationId));
            if (events.Count >= count || DateTime.UtcNow > deadline)
            {
                Assert.True(events.Count == count, $"expected {count} events, got: {string.Join(", ", events.Select(e => e.Str("type")))}");
                return events;
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Calls during a failover may fail until the cluster notices the dead silo; the test waits for them.</summary>
    private static async Task<T> RetryAsync<T>(Func<Task<T>> call)
    {
        var deadline = DateTime.UtcNow + GiveUp;
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    private static async Task SqlAsync(KefuTestCluster cluster, string sql)
    {
        await using var connection = new MySqlConnection(cluster.Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
