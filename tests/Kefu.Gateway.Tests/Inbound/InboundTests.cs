using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;
using Kefu.Grains.Events;
using Microsoft.Extensions.DependencyInjection;

namespace Kefu.Gateway.Tests.Inbound;

/// <summary>
/// <c>POST /api/v1/webhook</c> (INTEGRATION.md §3, docs/integration.md §9): one event per sender id however often and
/// however concurrently it is posted, the original answer replayed, a reused id with another body refused, contacts by
/// external id, and every kind of bad input answered with its code and nothing recorded.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class InboundTests(GatewayFixture gateway)
{
    [Fact]
    public async Task Fifty_parallel_posts_of_one_id_make_one_event_and_one_answer()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var id = "erp-" + Ulid.NewUlid();
        var body = $$$"""{"id":"{{{id}}}","type":"order_status","data":{"order_id":"12345","status":"shipped"}}""";

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => admin.PostAsync("/api/v1/webhook", Json(body))));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        var answers = await Task.WhenAll(responses.Select(r => r.Content.ReadAsStringAsync()));
        var eventIds = answers.Select(a => JsonDocument.Parse(a).RootElement.Str("eventId")).Distinct().ToList();
        var eventId = Assert.Single(eventIds);
        Assert.True(Ulid.TryParse(eventId, out _));
        Assert.All(answers, a => Assert.Equal("accepted", JsonDocument.Parse(a).RootElement.Str("status")));
        Assert.Equal(49, responses.Count(r => r.Headers.TryGetValues("Idempotent-Replayed", out var v) && v.Single() == "true"));

        var recorded = Assert.Single(await ReceivedAsync(id));
        Assert.Equal(eventId, recorded.Id.ToString());
        var data = JsonDocument.Parse(recorded.DataJson).RootElement;
        Assert.Equal("order_status", data.Str("type"));
        Assert.Equal(id, data.Str("sourceId"));
        Assert.Equal("shipped", data.GetProperty("data").Str("status"));
        Assert.Equal(Causation.Agent, recorded.Causation.Kind);
    }

    [Fact]
    public async Task The_same_id_again_replays_the_answer_and_another_body_is_refused()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var id = "erp-" + Ulid.NewUlid();
        var body = $$$"""{"id":"{{{id}}}","type":"order_status","data":{"status":"paid"}}""";
        var first = await admin.PostAsync("/api/v1/webhook", Json(body));
        var firstAnswer = await Desk.Ok(first);
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));

        // Whitespace is the sender's serializer's business: still the same body.
        var again = await admin.PostAsync("/api/v1/webhook", Json(body.Replace(",", ", ", StringComparison.Ordinal)));
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(firstAnswer.Str("eventId"), (await Desk.Ok(again)).Str("eventId"));

        var other = await admin.PostAsync("/api/v1/webhook", Json(body.Replace("paid", "refunded", StringComparison.Ordinal)));
        Assert.Equal("idempotency_mismatch", await Desk.ProblemCode(other, HttpStatusCode.UnprocessableEntity));
        Assert.Single(await ReceivedAsync(id));
    }

    [Fact]
    public async Task A_contact_is_found_or_created_by_external_id_with_its_current_conversation()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var externalId = "u-" + Ulid.NewUlid();
        var first = await Desk.Ok(await admin.PostAsync("/api/v1/webhook", Json(
            $$$"""{"id":"{{{Ulid.NewUlid()}}}","type":"order_status","contact":{"externalId":"{{{externalId}}}","name":"Ann Lee","email":"ann@example.com"},"data":{"order_id":"1"}}""")));
        var contactId = first.Str("contactId")!;
        var conversationId = first.Str("conversationId")!;
        Assert.True(Ulid.TryParse(contactId, out _));
        Assert.True(Ulid.TryParse(conversationId, out _));

        var secondId = "erp-" + Ulid.NewUlid();
        var second = await Desk.Ok(await admin.PostAsync("/api/v1/webhook", Json(
            $$$"""{"id":"{{{secondId}}}","type":"order_status","contact":{"externalId":"{{{externalId}}}"},"data":{"order_id":"1","status":"shipped"}}""")));
        Assert.Equal(contactId, second.Str("contactId"));
        Assert.Equal(conversationId, second.Str("conversationId"));

        var grains = gateway.Services.GetRequiredService<IGrainFactory>();
        Assert.Equal(contactId, await grains.GetGrain<IContactIndexGrain>(Tenancy.Key(Tenancy.DefaultTenant, externalId)).Find());
        var contact = await grains.GetGrain<IContactGrain>(Tenancy.Key(Tenancy.DefaultTenant, contactId)).Get();
        Assert.Equal(("Ann Lee", "ann@example.com"), (contact!.Name, contact.Email));
        Assert.Contains(conversationId, contact.ConversationIds);

        var data = JsonDocument.Parse(Assert.Single(await ReceivedAsync(secondId)).DataJson).RootElement;
        Assert.Equal((contactId, externalId, conversationId), (data.Str("contactId"), data.Str("externalId"), data.Str("conversationId")));

        // Addressed by that conversation's id instead.
        var byConversation = await Desk.Ok(await admin.PostAsync("/api/v1/webhook", Json(
            $$$"""{"id":"{{{Ulid.NewUlid()}}}","type":"note","conversationId":"{{{conversationId}}}"}""")));
        Assert.Equal(conversationId, byConversation.Str("conversationId"));
    }

    [Fact]
    public async Task Bad_input_is_answered_with_its_code_and_records_nothing()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var id = "bad-" + Ulid.NewUlid();
        async Task<string> Code(string body, HttpStatusCode status = HttpStatusCode.BadRequest) =>
            await Desk.ProblemCode(await admin.PostAsync("/api/v1/webhook", Json(body)), status);

        Assert.Equal("invalid_json", await Code("""{"id":"x","type":"""));
        Assert.Equal("invalid_json", await Code("""[{"id":"x","type":"y"}]"""));
        Assert.Equal("invalid_json", await Code(""));
        Assert.Equal("missing_field", await Code($$$"""{"type":"order_status","id2":"{{{id}}}"}"""));
        Assert.Equal("missing_field", await Code($$$"""{"id":"{{{id}}}"}"""));
        Assert.Equal("invalid_field", await Code($$$"""{"id":"","type":"t"}"""));
        Assert.Equal("invalid_field", await Code($$$"""{"id":"{{{new string('x', 129)}}}","type":"t"}"""));
        Assert.Equal("invalid_field", await Code($$$"""{"id":42,"type":"t"}"""));
        Assert.Equal("invalid_field", await Code($$$"""{"id":"{{{id}}}","type":"t","data":[1]}"""));
        Assert.Equal("missing_field", await Code($$$"""{"id":"{{{id}}}","type":"t","contact":{"name":"Ann"}}"""));
        Assert.Equal("not_found", await Code($$$"""{"id":"{{{id}}}","type":"t","conversationId":"no-such"}""", HttpStatusCode.NotFound));
        Assert.Equal("not_found", await Code($$$"""{"id":"{{{id}}}","type":"t","conversationId":"{{{Ulid.NewUlid()}}}"}""", HttpStatusCode.NotFound));

        // Over 256 KiB: refused by its declared length, and when sent without one (chunked) once the limit is passed.
        var large = $$$"""{"id":"{{{id}}}","type":"t","data":{"blob":"{{{new string('a', 256 * 1024)}}}"}}""";
        Assert.Equal("payload_too_large", await Code(large, HttpStatusCode.RequestEntityTooLarge));
        var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(large)));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/webhook") { Content = chunked })
        {
            request.Headers.TransferEncodingChunked = true;
            Assert.Equal("payload_too_large", await Desk.ProblemCode(await admin.SendAsync(request), HttpStatusCode.RequestEntityTooLarge));
        }

        Assert.Empty(await ReceivedAsync(id));

        // Unknown members are ignored; a body just under the limit is fine.
        var accepted = await admin.PostAsync("/api/v1/webhook", Json(
            $$$"""{"id":"{{{id}}}","type":"t","shipment":{"carrier":"DHL"},"priority":7,"data":{"blob":"{{{new string('a', 200 * 1024)}}}"}}"""));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Single(await ReceivedAsync(id));
    }

    [Fact]
    public async Task Only_admins_and_keys_with_events_write_may_post()
    {
        var body = Json($$$"""{"id":"{{{Ulid.NewUlid()}}}","type":"t"}""");
        using var anonymous = gateway.Http();
        Assert.Equal("unauthorized", await Desk.ProblemCode(await anonymous.PostAsync("/api/v1/webhook", body), HttpStatusCode.Unauthorized));

        var (_, agentToken) = await gateway.CreateAgentAsync();
        using var agent = gateway.Http(agentToken);
        Assert.Equal("not_allowed", await Desk.ProblemCode(await agent.PostAsync("/api/v1/webhook", body), HttpStatusCode.Forbidden));

        var (_, visitorToken) = await gateway.CreateVisitorAsync();
        using var visitor = gateway.Http(visitorToken);
        Assert.Equal("not_allowed", await Desk.ProblemCode(await visitor.PostAsync("/api/v1/webhook", body), HttpStatusCode.Forbidden));
    }

    [Fact]
    public async Task The_senders_deadline_header_is_recorded_and_a_bad_one_refused()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var id = "erp-" + Ulid.NewUlid();
        var before = DateTimeOffset.UtcNow;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/webhook") { Content = Json($$$"""{"id":"{{{id}}}","type":"order_status"}""") };
        request.Headers.Add("Kefu-Timeout-Ms", "2500");
        Assert.Equal(HttpStatusCode.Accepted, (await admin.SendAsync(request)).StatusCode);

        var deadline = JsonDocument.Parse(Assert.Single(await ReceivedAsync(id)).DataJson).RootElement.GetProperty("deadline").GetDateTimeOffset();
        Assert.InRange(deadline, before.AddMilliseconds(2500), DateTimeOffset.UtcNow.AddMilliseconds(2500));

        foreach (var bad in new[] { "0", "-5", "1.5", "soon", "86400001" })
        {
            var badId = "erp-" + Ulid.NewUlid();
            using var refused = new HttpRequestMessage(HttpMethod.Post, "/api/v1/webhook") { Content = Json($$$"""{"id":"{{{badId}}}","type":"order_status"}""") };
            refused.Headers.TryAddWithoutValidation("Kefu-Timeout-Ms", bad);
            Assert.Equal("invalid_field", await Desk.ProblemCode(await admin.SendAsync(refused), HttpStatusCode.BadRequest));
            Assert.Empty(await ReceivedAsync(badId));
        }
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    /// <summary>The inbound.received events recorded for the sender id <paramref name="sourceId"/>.</summary>
    private async Task<List<StoredEvent>> ReceivedAsync(string sourceId)
    {
        var log = gateway.Services.GetRequiredService<IEventLog>();
        var found = new List<StoredEvent>();
        long after = 0;
        while (true)
        {
            var page = await log.ReadAsync(Tenancy.DefaultTenant, after, [EventTypes.InboundReceived], 500);
            found.AddRange(page.Events.Where(e => JsonDocument.Parse(e.DataJson).RootElement.Str("sourceId") == sourceId));
            if (page.Events.Length == 0)
            {
                return found;
            }

            after = page.Next;
        }
    }
}
