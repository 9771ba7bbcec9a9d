using System.Text.Json;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Grains.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Kefu.Grains.Tests.Events;

/// <summary>
/// Issue #13, item 7: many random operations (sends, retries, refused sends, status changes, transfers, labels,
/// notes, ratings, reactivations) → exactly one event per durable change, in cursor order, each conversation's seq
/// 1, 2, 3, … without a gap, and nothing for refused or repeated operations. After every operation the events it
/// produced are read and compared with what the conversation's summary says changed.
/// </summary>
[Collection(DefaultClusterCollection.Name)]
public sealed class RandomizedEventTests(DefaultClusterFixture fixture, ITestOutputHelper output)
{
    private const int Operations = 400;

    private static readonly string[] Statuses = [ConversationStatus.Open, ConversationStatus.Pending, ConversationStatus.Snoozed, ConversationStatus.Resolved];
    private static readonly string[][] TagSets = [[], ["vip"], ["vip", "billing"], ["refund"]];

    private IClusterClient Client => fixture.Client;

    [Theory]
    [InlineData(1301)]
    [InlineData(4242)]
    public async Task EveryDurableChangeIsExactlyOneEventInOrderAndRefusedOnesAreNone(int seed)
    {
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var tenant = Scenario.NewTenant();
        var log = new EventLogReader(Client, tenant);
        var tenantGrain = Client.GetGrain<ITenantGrain>(tenant);
        TestAgent[] agents =
        [
            await Scenario.NewOnlineAgentAsync(Client, tenant, capacity: 20),
            await Scenario.NewOnlineAgentAsync(Client, tenant, capacity: 20),
            await Scenario.NewOnlineAgentAsync(Client, tenant, admin: true, capacity: 20),
        ];
        (await tenantGrain.PutTeam(new TeamConfig("team-a", "Team A", [agents[0].Id, agents[1].Id]))).Ok();

        var conversations = new List<(TestVisitor Visitor, IConversationGrain Grain, List<string> SentIds)>();
        var lastSeq = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var i = 0; i < 4; i++)
        {
            var visitor = await Scenario.NewVisitorAsync(Client, tenant);
            var (_, grain) = await Scenario.StartConversationAsync(Client, visitor);
            conversations.Add((visitor, grain, []));
        }

        Check(await log.NewAsync(), lastSeq);
        var outcomes = new int[13, 2];
        for (var op = 0; op < Operations; op++)
        {
            var (visitor, conversation, sentIds) = conversations[random.Next(conversations.Count)];
            var before = (await conversation.GetSummary())!;

            // Mostly the assignee (whose operations succeed), sometimes anyone (whose operations may be refused).
            var agent = agents.FirstOrDefault(a => a.Id == before.AssigneeId && random.Next(3) > 0) ?? agents[random.Next(agents.Length)];
            var kind = random.Next(13);
            var what = $"op {op} kind {kind} on {before.ConversationId} ({before.Status}, {before.AssigneeId}) by {agent.Id}";
            bool ok;
            Ulid? messageId = null;
            string? transferredTo = null;
            switch (kind)
            {
                case 0 or 1:
                    var clientMsgId = $"c-{op}";
                    var sent = await conversation.SendAsync(visitor.Caller, clientMsgId, $"visitor {op}");
                    ok = sent.IsOk;
                    messageId = sent.Value?.MessageId;
                    sentIds.Add(clientMsgId);
                    break;
                case 2:
                    // A retry: the original ack, no new message.
                    if (sentIds.Count == 0)
                    {
                        continue;
                    }

                    var retried = await conversation.SendAsync(visitor.Caller, sentIds[random.Next(sentIds.Count)], "again");
                    ok = false;
                    Assert.True(retried.IsOk, what);
                    break;
                case 3:
                    // Refused sends: blank text, or an agent who is not in the conversation.
                    var refused = random.Next(2) == 0
                        ? await conversation.SendAsync(visitor.Caller, $"c-blank-{op}", "  ")
                        : await conversation.SendAsync(agents[1 - (before.AssigneeId == agents[0].Id ? 0 : 1)].Caller with { IsAdmin = false }, $"x-{op}", "hi");
                    ok = refused.IsOk;
                    messageId = refused.Value?.MessageId;
                    break;
                case 4:
                    var reply = await conversation.SendAsync(agent.Caller, $"a-{op}", $"agent {op}");
                    ok = reply.IsOk;
                    messageId = reply.Value?.MessageId;
                    break;
                case 5 or 6:
                    var status = Statuses[random.Next(Statuses.Length)];
                    ok = (await conversation.ChangeStatus(agent.Caller, status, status == ConversationStatus.Snoozed ? DateTimeOffset.UtcNow.AddHours(1 + random.Next(3)) : null)).IsOk;
                    break;
                case 7:
                    if (random.Next(3) == 0)
                    {
                        ok = (await conversation.Transfer(agent.Caller, null, "team-a")).IsOk;
                        transferredTo = "team-a";
                    }
                    else
                    {
                        var to = agents[random.Next(agents.Length)].Id;
                        ok = (await conversation.Transfer(agent.Caller, to, null)).IsOk;
                        transferredTo = to;
                    }

                    break;
                case 8:
                    ok = (await conversation.Label(agent.Caller, TagSets[random.Next(TagSets.Length)], random.Next(2) == 0 ? null : ConversationPriority.All[random.Next(ConversationPriority.All.Length)])).IsOk;
                    break;
                case 9:
                    ok = (await conversation.AddNote(agent.Caller, $"note {op}")).IsOk;
                    break;
                case 10:
                    ok = (await conversation.Rate(visitor.Caller, 1 + random.Next(5), null)).IsOk;
                    break;
                case 11:
                    // Typing and reading are no events, whatever their outcome.
                    await conversation.Typing(visitor.Caller, true);
                    await conversation.MarkRead(visitor.Caller, before.LastSeq);
                    ok = false;
                    break;
                default:
                    // Every conversation starts over from its stored state.
                    await Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
                    ok = false;
                    break;
            }

            var after = (await conversation.GetSummary())!;
            var events = await log.NewAsync();
            Check(events, lastSeq);
            outcomes[kind, ok ? 1 : 0]++;
            if (!ok)
            {
                Assert.True(events.Count == 0, $"{what}: refused or no change, yet {string.Join(", ", events.Select(e => e.Type))}");
                Assert.Equal(before.LastSeq, after.LastSeq);
                continue;
            }

            Assert.All(events, e => Assert.Equal(before.ConversationId, e.ConversationId));
            int Count(string type) => events.Count(e => e.Type == type);

            // Messages: exactly the one sent (plus, after a visitor's message, maybe the system's away message).
            var messages = events.Where(e => e.Type == EventTypes.MessageCreated).Select(e => JsonDocument.Parse(e.DataJson).RootElement.GetProperty("message")).ToArray();
            Assert.Equal(messageId is null ? 0 : 1, messages.Count(m => m.GetProperty("messageId").GetString() == messageId.ToString()));
            Assert.All(messages.Where(m => m.GetProperty("messageId").GetString() != messageId.ToString()), m => Assert.Equal("system", m.GetProperty("sender").GetProperty("role").GetString()));
            Assert.Equal(after.LastSeq - before.LastSeq, messages.Length);

            // Lifecycle: what the summaries say changed, once each.
            Assert.True(Count(EventTypes.ConversationStatusChanged) == (before.Status != after.Status ? 1 : 0), $"{what}: status {before.Status} → {after.Status}");
            var assigned = after.Status == ConversationStatus.Open && (after.AssigneeId != before.AssigneeId || before.Status != ConversationStatus.Open);
            Assert.True(Count(EventTypes.ConversationAssigned) == (assigned ? 1 : 0), $"{what}: assignee {before.AssigneeId} → {after.AssigneeId}");
            var labelled = !before.Tags!.SequenceEqual(after.Tags!) || before.Priority != after.Priority;
            var joined = after.AgentIds.Except(before.AgentIds).Any(a => !(assigned && a == after.AssigneeId));
            var snoozedLater = before.Status == ConversationStatus.Snoozed && after.Status == ConversationStatus.Snoozed && before.SnoozedUntil != after.SnoozedUntil;
            Assert.True(Count(EventTypes.ConversationUpdated) == (labelled || joined || snoozedLater ? 1 : 0), $"{what}: updated");
            var moved = transferredTo is not null && !(before.Status == ConversationStatus.Open && before.AssigneeId == transferredTo);
            Assert.Equal(moved ? 1 : 0, Count(EventTypes.ConversationTransferred));
            Assert.Equal(kind == 9 ? 1 : 0, Count(EventTypes.NoteCreated));
            Assert.Equal(kind == 10 ? 1 : 0, Count(EventTypes.ConversationRated));
            Assert.Equal(0, Count(EventTypes.ConversationCreated));
        }

        for (var kind = 0; kind < outcomes.GetLength(0); kind++)
        {
            output.WriteLine($"kind {kind}: {outcomes[kind, 1]} changed, {outcomes[kind, 0]} refused or none");
        }

        // Every stored message is exactly one event; every event once.
        var all = await log.AllAsync();
        Assert.Equal(all.Count, all.Select(e => e.Id).Distinct().Count());
        foreach (var (_, grain, _) in conversations)
        {
            var summary = (await grain.GetSummary())!;
            Assert.Equal(summary.LastSeq, all.Count(e => e.ConversationId == summary.ConversationId && e.Type == EventTypes.MessageCreated));
            Assert.Equal(1, all.Count(e => e.ConversationId == summary.ConversationId && e.Type == EventTypes.ConversationCreated));
        }
    }

    /// <summary>Cursors increase; each conversation's seqs go on from the last one seen, one by one.</summary>
    private static void Check(List<StoredEvent> events, Dictionary<string, long> lastSeq)
    {
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            Assert.True(i == 0 || e.Cursor > events[i - 1].Cursor, "cursor order");
            var expected = lastSeq.GetValueOrDefault(e.ConversationId!) + 1;
            Assert.True(e.Seq == expected, $"{e.Type} of {e.ConversationId} has seq {e.Seq}, expected {expected}");
            lastSeq[e.ConversationId!] = e.Seq;
        }
    }
}
