using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.Plugins;

/// <summary>A gateway of its own: the quick start puts its plugin on the default tenant, which other collections share.</summary>
public sealed class QuickStartGatewayFixture : GatewayFixture;

[CollectionDefinition(Name)]
public sealed class QuickStartGatewayCollection : ICollectionFixture<QuickStartGatewayFixture>
{
    public const string Name = "plugin-quick-start";
}

/// <summary>
/// docs/plugins.md "Quick start", step by step as a newcomer does it: the sample built by its script
/// (scripts/test.sh builds it), uploaded with its manifest through <c>PUT /api/v1/plugins/order-triage</c>, a visitor's
/// message with a card number stored redacted, and the order question's conversation tagged.
/// </summary>
[Collection(QuickStartGatewayCollection.Name)]
public sealed class PluginQuickStartTests(QuickStartGatewayFixture gateway)
{
    private static readonly string Sample = Path.Combine(Repository.Root, "samples", "plugins", "order-triage");

    [Fact]
    public async Task The_sample_plugin_redacts_a_card_number_and_tags_an_order_question()
    {
        var wasm = Path.Combine(Sample, "build", "order-triage.wasm");
        Assert.True(File.Exists(wasm), $"{wasm} is missing: run samples/plugins/order-triage/build.sh");
        using var admin = gateway.Http(await gateway.LoginAsync());
        using var form = new MultipartFormDataContent();
        var module = new ByteArrayContent(await File.ReadAllBytesAsync(wasm));
        module.Headers.ContentType = new MediaTypeHeaderValue("application/wasm");
        form.Add(module, "module", "order-triage.wasm");
        form.Add(new StringContent(await File.ReadAllTextAsync(Path.Combine(Sample, "manifest.json"))), "manifest", "manifest.json");
        var upload = await admin.PutAsync("/api/v1/plugins/order-triage", form);
        Assert.True(upload.StatusCode == HttpStatusCode.Created, await upload.Content.ReadAsStringAsync());

        var (_, visitor) = await gateway.CreateVisitorAsync("Ann");
        await using var chat = await gateway.ConnectAsync(visitor);
        var ack = await chat.SendMessageAsync("我的订单 8812345 到哪了？卡号 4111 1111 1111 1111");
        var conversationId = ack.Str("conversationId")!;

        var messages = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/conversations/{conversationId}/messages");
        var texts = messages.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("text").GetString()).ToList();
        Assert.Contains("我的订单 8812345 到哪了？卡号 [card]", texts);
        Assert.DoesNotContain(texts, t => t!.Contains("4111", StringComparison.Ordinal));

        // after_message runs from the event log, after the message is stored: the tag arrives a moment later.
        await WsGuard.HardeningTests.WaitUntilAsync(async () =>
        {
            var conversation = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/conversations/{conversationId}");
            return conversation.TryGetProperty("tags", out var tags) && tags.EnumerateArray().Any(t => t.GetString() == "order");
        });
    }
}
