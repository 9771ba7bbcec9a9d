using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Contracts.Events;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;
using Kefu.Grains.Events;
using Microsoft.Extensions.DependencyInjection;

namespace Kefu.Gateway.Tests.Webhooks;

/// <summary>
/// Outbound webhooks end to end (INTEGRATION.md §5): a loopback receiver that checks signatures with its own code and
/// answers by script; events are put into the embedded silo's event log directly, so each test knows exactly which
/// events exist.
/// </summary>
[Collection(WebhooksGatewayCollection.Name)]
public sealed class WebhookDeliveryTests(WebhooksGatewayFixture gateway)
{
    private static readonly TimeSpan GiveUp = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Every_event_arrives_signed_at_least_once_through_500s_timeouts_and_429s()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        // The first attempt of each event fails in turn with a 500, a timeout or a 429 asking for a second's pause.
        var firstAttemptsFailed = 0;
        receiver.Script = (id, attempt) =>
        {
            if (attempt > 1)
            {
                return ReceiverAnswer.Ok;
            }

            return (Interlocked.Increment(ref firstAttemptsFailed) % 3) switch
            {
                0 => new ReceiverAnswer(500, Body: "database down"),
                1 => new ReceiverAnswer(200, Delay: TimeSpan.FromSeconds(3)),
                _ => new ReceiverAnswer(429, RetryAfterSeconds: 1),
            };
        };
        using var admin = gateway.Http(await gateway.LoginAsync());
        var endpoint = await CreateAsync(admin, receiver, ["message.created"]);

        var conversation = Ulid.NewUlid().ToString();
        var events = Enumerable.Range(1, 30).Select(seq => Message(conversation, seq)).ToList();
        await Log.AppendAsync(events);

        var expected = events.Select(e => e.Id.ToString()).ToHashSet();
        await WaitUntilAsync(() => expected.IsSubsetOf(receiver.Delivered), () => $"delivered {receiver.Delivered.Count(expected.Contains)} of {expected.Count}");

        var received = receiver.Received.Where(r => expected.Contains(r.Id)).ToList();
        Assert.All(received, r => Assert.True(r.SignatureValid, $"the signature of {r.Id} did not verify: {r.Signature}"));
        Assert.Contains(received, r => r.Attempt > 1); // retried, not just delivered
        foreach (var r in received.Where(r => r.Answered is >= 200 and < 300))
        {
            var envelope = r.Envelope;
            Assert.Equal(r.Id, envelope.Str("id")); // webhook-id is the event id: a receiver deduplicates by it
            Assert.Equal("message.created", envelope.Str("type"));
            Assert.Equal(conversation, envelope.Str("conversationId"));
        }

        // Retry-After was honoured: no second attempt came sooner than the second the receiver asked for.
        foreach (var group in received.GroupBy(r => r.Id))
        {
            var attempts = group.OrderBy(r => r.At).ToList();
            if (attempts.Count > 1 && attempts[0].Answered == 429)
            {
                Assert.True(attempts[1].At - attempts[0].At >= TimeSpan.FromSeconds(0.9), $"{group.Key}: retried {(attempts[1].At - attempts[0].At).TotalMilliseconds} ms after a Retry-After of 1 s");
            }
        }

        // The attempt log shows the failures with their status and the start of the answer.
        var failed = await Desk.Ok(await admin.GetAsync($"/api/v1/webhooks/{endpoint}/deliveries?status=failed&limit=200"));
        var failures = failed.GetProperty("deliveries").EnumerateArray().ToList();
        Assert.Contains(failures, d => d.TryGetProperty("httpStatus", out var s) && s.ValueKind == JsonValueKind.Number && s.GetInt32() == 500 && d.Str("responseExcerpt") == "database down");
        Assert.Contains(failures, d => d.Str("error")?.Contains("no answer", StringComparison.Ordinal) == true);
        Assert.All(failures, d => Assert.Equal("failed", d.Str("status")));
    }

    [Fact]
    public async Task A_410_disables_the_endpoint_with_an_event_and_nothing_is_sent_after_it()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Script = (_, _) => new ReceiverAnswer(410, Body: "gone");
        using var admin = gateway.Http(await gateway.LoginAsync());
        var endpoint = await CreateAsync(admin, receiver, ["message.created"]);

        var conversation = Ulid.NewUlid().ToString();
        await Log.AppendAsync([Message(conversation, 1)]);
        var view = await WaitForEndpointAsync(admin, endpoint, e => e.GetProperty("enabled").GetBoolean() == false);
        Assert.Contains("410", view.Str("disabledReason"), StringComparison.Ordinal);

        var mine = await DisabledEventsAsync(admin, endpoint);
        Assert.Single(mine);
        Assert.Equal(receiver.Url, mine[0].GetProperty("data").Str("url"));

        // Disabled: later events wait in the log (the receiver gets nothing), and come once it is enabled again.
        var count = receiver.Received.Count;
        var later = Message(conversation, 2);
        await Log.AppendAsync([later]);
        await Task.Delay(500); // a window in which a delivery would have happened (the poll is 100 ms); asserting absence
        Assert.Equal(count, receiver.Received.Count);

        receiver.Script = (_, _) => ReceiverAnswer.Ok;
        await Desk.Ok(await admin.PatchAsJsonAsync($"/api/v1/webhooks/{endpoint}", new { enabled = true }));
        await WaitUntilAsync(() => receiver.Delivered.Contains(later.Id.ToString()), () => "the event after the disable was not delivered once re-enabled");
    }

    [Fact]
    public async Task A_rotated_secret_and_the_previous_one_both_sign_during_the_overlap()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        using var admin = gateway.Http(await gateway.LoginAsync());
        var endpoint = await CreateAsync(admin, receiver, ["*"]);
        var oldSecret = receiver.Secrets[0];

        var rotated = await Desk.Ok(await admin.PostAsync($"/api/v1/webhooks/{endpoint}/rotate-secret", null));
        var newSecret = rotated.Str("secret")!;
        Assert.StartsWith("whsec_", newSecret, StringComparison.Ordinal);
        Assert.NotEqual(oldSecret, newSecret);

        var e = Message(Ulid.NewUlid().ToString(), 1);
        await Log.AppendAsync([e]);
        await WaitUntilAsync(() => receiver.Delivered.Contains(e.Id.ToString()), () => "not delivered");
        var request = receiver.Received.First(r => r.Id == e.Id.ToString());
        var signatures = request.Signature.Split(' ');
        Assert.Equal(2, signatures.Length);
        var timestamp = request.Timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(WebhookReceiver.Verifies(newSecret, request.Id, timestamp, request.Body, signatures[0]));
        Assert.True(WebhookReceiver.Verifies(oldSecret, request.Id, timestamp, request.Body, signatures[1]));

        // The secret is shown once: reading the endpoint does not answer it.
        var read = await Desk.Ok(await admin.GetAsync($"/api/v1/webhooks/{endpoint}"));
        Assert.Equal(JsonValueKind.Null, read.GetProperty("secret").ValueKind);
    }

    [Fact]
    public async Task Replay_redelivers_from_a_cursor_and_retry_resends_one_delivery()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        using var admin = gateway.Http(await gateway.LoginAsync());
        var endpoint = await CreateAsync(admin, receiver, ["message.created"]);
        var conversation = Ulid.NewUlid().ToString();
        var events = Enumerable.Range(1, 3).Select(seq => Message(conversation, seq)).ToList();
        await Log.AppendAsync(events);
        await WaitUntilAsync(() => events.All(e => receiver.Delivered.Contains(e.Id.ToString())), () => "not delivered");

        // Replay after the first event's cursor: the second and third come again, with the same webhook-ids.
        var first = receiver.Received.First(r => r.Id == events[0].Id.ToString()).Envelope.Str("cursor");
        var replay = await admin.PostAsJsonAsync($"/api/v1/webhooks/{endpoint}/replay", new { after = first });
        Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        // A batch's requests run concurrently, so the two replays may arrive in either order: wait for both.
        await WaitUntilAsync(() => events.Skip(1).All(e => receiver.Received.Count(r => r.Id == e.Id.ToString()) == 2), () => "not replayed");
        Assert.Equal(1, receiver.Received.Count(r => r.Id == events[0].Id.ToString()));

        // Retry one logged delivery.
        await WaitUntilAsync(async () => (await Deliveries(admin, endpoint)).Any(d => d.Str("eventId") == events[0].Id.ToString()), () => "not logged");
        var delivery = (await Deliveries(admin, endpoint)).First(d => d.Str("eventId") == events[0].Id.ToString());
        var retry = await admin.PostAsync($"/api/v1/webhooks/{endpoint}/deliveries/{delivery.Str("id")}/retry", null);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        await WaitUntilAsync(() => receiver.Received.Count(r => r.Id == events[0].Id.ToString()) == 2, () => "not retried");

        Assert.Equal("invalid_cursor", await Desk.ProblemCode(await admin.PostAsJsonAsync($"/api/v1/webhooks/{endpoint}/replay", new { after = "nope" }), HttpStatusCode.BadRequest));
        Assert.Equal("invalid_field", await Desk.ProblemCode(await admin.PostAsJsonAsync($"/api/v1/webhooks/{endpoint}/replay", new { after = "7fffffffffffffff" }), HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task Endpoints_are_listed_changed_and_deleted()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        using var admin = gateway.Http(await gateway.LoginAsync());
        var endpoint = await CreateAsync(admin, receiver, ["conversation.created", "note.created"]);

        var list = await Desk.Ok(await admin.GetAsync("/api/v1/webhooks"));
        var row = list.GetProperty("webhooks").EnumerateArray().Single(w => w.Str("id") == endpoint);
        Assert.Equal(JsonValueKind.Null, row.GetProperty("secret").ValueKind);
        Assert.Equal(["conversation.created", "note.created"], row.GetProperty("events").EnumerateArray().Select(e => e.GetString()));

        var changed = await Desk.Ok(await admin.PatchAsJsonAsync($"/api/v1/webhooks/{endpoint}", new { events = (string[])["*"], description = "ERP" }));
        Assert.Equal("ERP", changed.Str("description"));
        Assert.Equal("invalid_field", await Desk.ProblemCode(await admin.PatchAsJsonAsync($"/api/v1/webhooks/{endpoint}", new { events = (string[])["order.shipped"] }), HttpStatusCode.BadRequest));
        Assert.Equal("invalid_field", await Desk.ProblemCode(await admin.PatchAsJsonAsync($"/api/v1/webhooks/{endpoint}", new { url = "ftp://example.com/" }), HttpStatusCode.BadRequest));
        Assert.Equal("missing_field", await Desk.ProblemCode(await admin.PostAsJsonAsync("/api/v1/webhooks", new { url = receiver.Url }), HttpStatusCode.BadRequest));

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/webhooks/{endpoint}")).StatusCode);
        Assert.Equal("not_found", await Desk.ProblemCode(await admin.GetAsync($"/api/v1/webhooks/{endpoint}"), HttpStatusCode.NotFound));
        list = await Desk.Ok(await admin.GetAsync("/api/v1/webhooks"));
        Assert.DoesNotContain(list.GetProperty("webhooks").EnumerateArray(), w => w.Str("id") == endpoint);

        // Deleted: nothing more is sent.
        var e = Message(Ulid.NewUlid().ToString(), 1);
        await Log.AppendAsync([e]);
        await Task.Delay(500); // a window in which a delivery would have happened; asserting absence
        Assert.DoesNotContain(receiver.Received, r => r.Id == e.Id.ToString());
    }

    private IEventLog Log => gateway.Services.GetRequiredService<IEventLog>();

    internal static async Task<string> CreateAsync(HttpClient admin, WebhookReceiver receiver, string[] events)
    {
        var response = await admin.PostAsJsonAsync("/api/v1/webhooks", new { url = receiver.Url, events, description = "test receiver" });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        var created = JsonDocument.Parse(body).RootElement;
        receiver.Secrets = [.. receiver.Secrets, created.Str("secret")!];
        Assert.True(created.GetProperty("enabled").GetBoolean());
        return created.Str("id")!;
    }

    internal static async Task<List<JsonElement>> Deliveries(HttpClient admin, string endpoint) =>
        [.. (await Desk.Ok(await admin.GetAsync($"/api/v1/webhooks/{endpoint}/deliveries?limit=200"))).GetProperty("deliveries").EnumerateArray()];

    internal static async Task<JsonElement> WaitForEndpointAsync(HttpClient admin, string endpoint, Func<JsonElement, bool> condition)
    {
        JsonElement view = default;
        await WaitUntilAsync(async () => condition(view = await Desk.Ok(await admin.GetAsync($"/api/v1/webhooks/{endpoint}"))), () => view.ToString());
        return view;
    }

    internal static Task WaitUntilAsync(Func<bool> condition, Func<string> what) => WaitUntilAsync(() => Task.FromResult(condition()), what);

    internal static async Task WaitUntilAsync(Func<Task<bool>> condition, Func<string> what)
    {
        var deadline = DateTime.UtcNow + GiveUp;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "Gave up waiting: " + what());
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// The endpoint's webhook.endpoint_disabled events, once there is one: the grain writes the event with its state and
    /// relays it to the event log right after, so the endpoint can read as disabled a moment before its event is listed.
    /// </summary>
    internal static async Task<List<JsonElement>> DisabledEventsAsync(HttpClient admin, string endpoint)
    {
        List<JsonElement> mine = [];
        await WaitUntilAsync(async () =>
        {
            var page = await Desk.Ok(await admin.GetAsync("/api/v1/events?types=webhook.endpoint_disabled&limit=500"));
            mine = page.GetProperty("events").EnumerateArray().Where(e => e.GetProperty("data").Str("endpointId") == endpoint).ToList();
            return mine.Count > 0;
        }, () => $"no webhook.endpoint_disabled event for {endpoint}");
        return mine;
    }

    internal static DomainEvent Message(string conversation, long seq)
    {
        var at = DateTimeOffset.UtcNow;
        var message = new ChatMessage(conversation, Ulid.NewUlid(), seq, new Sender(ParticipantRole.Visitor, "v-1", null), $"m{seq}", at, null);
        return new DomainEvent(Ulid.NewUlid(), "default", conversation, seq, at, new Causation(Causation.Visitor, "v-1"), new MessageCreated(message));
    }
}
