using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Cluster.Tests.Infrastructure;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Cluster.Tests;

/// <summary>
/// Real processes (2 silos + 1 gateway) on a real MariaDB: whatever dies, nothing acked is lost, nothing is stored
/// twice, and seq has no gap.
/// </summary>
public sealed class FailoverTests
{
    private static readonly TimeSpan GiveUp = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Killing_the_silo_that_holds_the_conversation_loses_nothing()
    {
        await using var cluster = await KefuTestCluster.StartAsync(silos: 2);
        var (_, token) = await cluster.CreateVisitorAsync();
        await using var sender = new ResilientSender(() => cluster.ConnectAsync(token));
        var conversationId = (await sender.SendAsync("m0", "before", null, GiveUp)).Str("conversationId")!;
        var victim = await cluster.SiloHostingAsync(conversationId);

        const int total = 60;
        var sending = Task.Run(async () =>
        {
            for (var i = 1; i < total; i++)
            {
                await sender.SendAsync($"m{i}", $"message {i}", conversationId, GiveUp);
            }
        });
        while (sender.Acks.Count < 15 && !sending.IsCompleted)
        {
            await Task.Delay(20);
        }

        await victim.KillAsync();
        await sending;
        Assert.True(sender.Retries > 0, "the kill never reached the client: the test proved nothing");

        await AssertExactlyOnceAsync(cluster, token, conversationId, sender, total);
    }

    [Fact]
    public async Task Restarting_MariaDB_during_traffic_loses_nothing_and_the_system_recovers()
    {
        await using var cluster = await KefuTestCluster.StartAsync(silos: 2);
        var (_, token) = await cluster.CreateVisitorAsync();
        await using var sender = new ResilientSender(() => cluster.ConnectAsync(token));
        var conversationId = (await sender.SendAsync("m0", "before", null, GiveUp)).Str("conversationId")!;

        const int total = 50;
        var sending = Task.Run(async () =>
        {
            for (var i = 1; i < total; i++)
            {
                await sender.SendAsync($"m{i}", $"message {i}", conversationId, GiveUp);
            }
        });
        while (sender.Acks.Count < 10 && !sending.IsCompleted)
        {
            await Task.Delay(20);
        }

        await cluster.Database.RestartAsync();
        await sending;

        await AssertExactlyOnceAsync(cluster, token, conversationId, sender, total);

        // Recovered without a restart: new visitors chat as before.
        using var http = cluster.Http();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz")).StatusCode);
        var (_, fresh) = await cluster.CreateVisitorAsync();
        await using var client = await cluster.ConnectAsync(fresh);
        Assert.Equal(1, (await client.SendMessageAsync("after the database came back")).Long("seq"));
    }

    [Fact]
    public async Task Stopping_and_restarting_the_whole_cluster_keeps_agents_conversations_and_history()
    {
        await using var cluster = await KefuTestCluster.StartAsync(silos: 2);
        using (var admin = cluster.Http(await cluster.LoginAsync()))
        {
            var created = await admin.PostAsJsonAsync("/api/v1/agents", new { username = "carol", password = "desk-pass-c-2026" });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var (visitorId, visitorToken) = await cluster.CreateVisitorAsync();
        string conversationId;
        await using (var visitor = await cluster.ConnectAsync(visitorToken))
        {
            conversationId = (await visitor.SendMessageAsync("hello before the restart")).Str("conversationId")!;
            await visitor.SendMessageAsync("second", conversationId);
            await using var agent = await cluster.ConnectAsync(await cluster.LoginAsync("carol", "desk-pass-c-2026"));
            await agent.SendAsync(new { type = "join", conversationId });
            await agent.ReceiveUntilAsync("joined");
            await agent.SendMessageAsync("agent reply", conversationId);
        }

        await cluster.StopProcessesAsync();
        await cluster.StartSiloAsync();
        await cluster.StartSiloAsync();
        await cluster.StartGatewayAsync();

        var carol = await cluster.LoginAsync("carol", "desk-pass-c-2026");
        using (var http = cluster.Http(carol))
        {
            var list = await http.GetFromJsonAsync<JsonElement>("/api/v1/conversations");
            var listed = list.GetProperty("conversations").EnumerateArray().Single(c => c.Str("conversationId") == conversationId);
            Assert.Equal(visitorId, listed.Str("visitorId"));
            Assert.Equal("carol", listed.Str("assigneeId"));
            Assert.Equal(4, listed.Long("lastSeq"));

            // Nobody was online when the visitor wrote: the away message follows the first message.
            var history = await http.GetFromJsonAsync<JsonElement>($"/api/v1/conversations/{conversationId}/messages");
            var messages = history.GetProperty("messages").EnumerateArray().ToArray();
            Assert.Equal(["visitor", "system", "visitor", "agent"], messages.Select(m => m.GetProperty("sender").Str("role")));
            Assert.Equal(
                ["hello before the restart", "second", "agent reply"],
                messages.Where(m => m.GetProperty("sender").Str("role") != "system").Select(m => m.Str("text")));
        }

        // The visitor's token and conversation survive too; seq continues.
        await using var again = await cluster.ConnectAsync(visitorToken);
        var ack = await again.SendMessageAsync("hello after the restart");
        Assert.Equal(conversationId, ack.Str("conversationId"));
        Assert.Equal(5, ack.Long("seq"));

        // The events API replays every change of the session in order, across the restart (issue #13).
        using var reader = cluster.Http(await cluster.LoginAsync());
        var events = await EventReplayTests.WaitForEventsAsync(reader, conversationId, 8);
        Assert.Equal(
            ["conversation.created", "message.created", "message.created", "message.created", "conversation.status_changed",
             "conversation.assigned", "message.created", "message.created"],
            events.Select(e => e.Str("type")));
        Assert.Equal(Enumerable.Range(1, 8).Select(i => (long)i), events.Select(e => e.Long("seq")));
        Assert.Equal(
            ["hello before the restart", "second", "agent reply", "hello after the restart"],
            events.Where(e => e.Str("type") == "message.created")
                .Select(e => e.GetProperty("data").GetProperty("message"))
                .Where(m => m.GetProperty("sender").Str("role") != "system")
                .Select(m => m.Str("text")));
    }

    [Fact]
    public async Task The_silo_dashboard_is_for_admins_only()
    {
        await using var cluster = await KefuTestCluster.StartAsync(silos: 1);
        var silo = cluster.Silos[0].Process;
        using var anonymous = new HttpClient { BaseAddress = silo.Http };
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/dashboard")).StatusCode);

        var adminToken = await cluster.LoginAsync();
        using (var agentCreator = cluster.Http(adminToken))
        {
            var created = await agentCreator.PostAsJsonAsync("/api/v1/agents", new { username = "dave", password = "desk-pass-d-2026" });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var agentToken = await cluster.LoginAsync("dave", "desk-pass-d-2026");
        Assert.Equal(HttpStatusCode.Forbidden, (await anonymous.GetAsync($"/dashboard?access_token={agentToken}")).StatusCode);

        // A browser opens it once with the token; the page's own calls then ride on the cookie it set.
        var cookies = new CookieContainer();
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = cookies }) { BaseAddress = silo.Http };
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync($"/dashboard?access_token={adminToken}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/dashboard")).StatusCode);
    }

    private static async Task AssertExactlyOnceAsync(KefuTestCluster cluster, string token, string conversationId, ResilientSender sender, int total)
    {
        Assert.Equal(total, sender.Acks.Count);
        await using var reader = await cluster.ConnectAsync(token);
        await reader.SendAsync(new { type = "sync", conversationId, afterSeq = 0 });
        var all = (await reader.ReceiveUntilAsync("synced")).Where(f => f.Type() == "message").ToList();

        // Seq 1..n without a gap over everything stored: the visitor's messages and the one away message (nobody
        // serves the inbox in these tests, so the system says so once, after the first message).
        Assert.Equal(Enumerable.Range(1, total + 1).Select(i => (long)i), all.Select(m => m.Long("seq")));
        Assert.Equal("system", Assert.Single(all, m => m.GetProperty("sender").Str("role") != "visitor").GetProperty("sender").Str("role"));

        // Every visitor message once, and each ack names the stored message.
        var messages = all.Where(m => m.GetProperty("sender").Str("role") == "visitor").ToList();
        Assert.Equal(total, messages.Count);
        Assert.Equal(total, messages.Select(m => m.Str("clientMsgId")).Distinct().Count());
        foreach (var message in messages)
        {
            var (seq, messageId) = sender.Acks[message.Str("clientMsgId")!];
            Assert.Equal(seq, message.Long("seq"));
            Assert.Equal(messageId, message.Str("messageId"));
        }
    }
}
