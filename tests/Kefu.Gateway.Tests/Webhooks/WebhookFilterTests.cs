using System.Net.Http.Json;
using Kefu.Contracts.Events;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;
using Kefu.Grains.Events;
using Microsoft.Extensions.DependencyInjection;
using static Kefu.Gateway.Tests.Webhooks.WebhookDeliveryTests;

namespace Kefu.Gateway.Tests.Webhooks;

/// <summary>
/// Which events an endpoint gets: the inbox filter (by the conversation's inbox) and internal notes only for endpoints
/// that name note.created. Absence is checked once the endpoint's cursor has passed the event, not after a sleep.
/// </summary>
[Collection(WebhooksGatewayCollection.Name)]
public sealed class WebhookFilterTests(WebhooksGatewayFixture gateway)
{
    [Fact]
    public async Task Inbox_filters_keep_only_conversations_of_those_inboxes()
    {
        await using var receiverA = await WebhookReceiver.StartAsync();
        await using var receiverB = await WebhookReceiver.StartAsync();
        using var admin = gateway.Http(await gateway.LoginAsync());
        await CreateAsync(admin, receiverA, ["message.created"], ["default"]);
        var elsewhere = await CreateAsync(admin, receiverB, ["message.created"], ["elsewhere"]);

        var (_, token) = await gateway.CreateVisitorAsync("Filtered");
        await using var visitor = await gateway.ConnectAsync(token);
        var ack = await visitor.SendMessageAsync("which inbox?");
        var conversation = ack.Str("conversationId")!;

        await WaitUntilAsync(() => receiverA.Received.Any(r => r.Envelope.Str("conversationId") == conversation && r.Answered == 200), () => "the default inbox's endpoint got nothing");
        var cursor = receiverA.Received.First(r => r.Envelope.Str("conversationId") == conversation).Envelope.Str("cursor")!;
        await WaitForEndpointAsync(admin, elsewhere, e => string.CompareOrdinal(e.Str("cursor"), cursor) >= 0);
        Assert.DoesNotContain(receiverB.Received, r => r.Envelope.Str("conversationId") == conversation);
    }

    [Fact]
    public async Task Internal_notes_go_only_to_endpoints_that_name_note_created()
    {
        await using var everything = await WebhookReceiver.StartAsync();
        await using var withNotes = await WebhookReceiver.StartAsync();
        using var admin = gateway.Http(await gateway.LoginAsync());
        await CreateAsync(admin, everything, ["*"]);
        await CreateAsync(admin, withNotes, ["*", "note.created"]);

        var conversation = Ulid.NewUlid().ToString();
        var note = new DomainEvent(Ulid.NewUlid(), "default", conversation, 1, DateTimeOffset.UtcNow, new Causation(Causation.Agent, "admin"),
            new NoteCreated(new InternalNote("n-1", conversation, new Sender(ParticipantRole.Agent, "admin", null), "internal only", DateTimeOffset.UtcNow)));
        var message = Message(conversation, 2);
        await gateway.Services.GetRequiredService<IEventLog>().AppendAsync([note, message]);

        await WaitUntilAsync(() => withNotes.Delivered.Contains(note.Id.ToString()) && withNotes.Delivered.Contains(message.Id.ToString()), () => "notes endpoint");
        await WaitUntilAsync(() => everything.Delivered.Contains(message.Id.ToString()), () => "the * endpoint did not get the message");
        Assert.DoesNotContain(everything.Received, r => r.Id == note.Id.ToString());
        var received = withNotes.Received.First(r => r.Id == note.Id.ToString()).Envelope;
        Assert.Equal("note.created", received.Str("type"));
    }

    private static async Task<string> CreateAsync(HttpClient admin, WebhookReceiver receiver, string[] events, string[]? inboxes = null)
    {
        var created = await Desk.Ok(await admin.PostAsJsonAsync("/api/v1/webhooks", new { url = receiver.Url, events, inboxes }));
        receiver.Secrets = [created.Str("secret")!];
        return created.Str("id")!;
    }
}
