using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Contracts.Events;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;
using Kefu.Grains.Events;
using Microsoft.Extensions.DependencyInjection;
using static Kefu.Gateway.Tests.Webhooks.WebhookDeliveryTests;

namespace Kefu.Gateway.Tests.Webhooks;

/// <summary>A receiver that keeps failing: the circuit breaker pauses it, and after the configured time it is disabled with an event.</summary>
[Collection(StrictWebhooksGatewayCollection.Name)]
public sealed class WebhookFailureTests(StrictWebhooksGatewayFixture gateway)
{
    [Fact]
    public async Task A_failing_receiver_opens_the_circuit_then_is_disabled_with_an_event_and_its_events_are_kept()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Script = (_, _) => new ReceiverAnswer(503, Body: "maintenance");
        using var admin = gateway.Http(await gateway.LoginAsync());
        var endpoint = await CreateAsync(admin, receiver, ["message.created"]);
        var conversation = Ulid.NewUlid().ToString();
        var events = Enumerable.Range(1, 20).Select(seq => Message(conversation, seq)).ToList();
        await Log.AppendAsync(events);

        // Three failures in a row open the circuit: the endpoint pauses instead of sending all twenty.
        var open = await WaitForEndpointAsync(admin, endpoint, e => e.GetProperty("circuitOpenUntil").ValueKind == JsonValueKind.String);
        Assert.NotEqual(JsonValueKind.Null, open.GetProperty("failingSince").ValueKind);

        // Failing for two seconds (the configured DisableAfter): disabled, with exactly one event saying why.
        var disabled = await WaitForEndpointAsync(admin, endpoint, e => !e.GetProperty("enabled").GetBoolean());
        Assert.Contains("failed since", disabled.Str("disabledReason"), StringComparison.Ordinal);
        Assert.True(receiver.Received.Count < 20 * 2, $"the open circuit should have held most attempts back, yet {receiver.Received.Count} were sent");
        Assert.Single(await DisabledEventsAsync(admin, endpoint));

        // Nothing was dropped: re-enabled against a healthy receiver, every event arrives.
        receiver.Script = (_, _) => ReceiverAnswer.Ok;
        await Desk.Ok(await admin.PatchAsJsonAsync($"/api/v1/webhooks/{endpoint}", new { enabled = true }));
        var expected = events.Select(e => e.Id.ToString()).ToHashSet();
        await WaitUntilAsync(() => expected.IsSubsetOf(receiver.Delivered), () => $"delivered {receiver.Delivered.Count(expected.Contains)} of 20");
        Assert.All(receiver.Received, r => Assert.True(r.SignatureValid));
    }

    private IEventLog Log => gateway.Services.GetRequiredService<IEventLog>();
}
