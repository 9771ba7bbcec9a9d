using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Contracts.Plugins;
using Kefu.Gateway.Auth;
using Kefu.Gateway.Tests.Infrastructure;
using Kefu.Grains.Tests.Plugins;
using Microsoft.Extensions.DependencyInjection;

namespace Kefu.Gateway.Tests.Plugins;

/// <summary>
/// before_message plugins on the real chat path (issue #19): a visitor's WebSocket send is redacted before it is stored
/// and pushed, refused with an error frame <c>refused</c> (nothing stored), let through or refused when the plugin traps
/// as its <c>on_error</c> says; a tenant without plugins is untouched; and a tenant whose plugin traps on every message
/// does not disturb another tenant's chat.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class MessageHookChatTests(GatewayFixture gateway)
{
    private const string Card = "4111 1111 1111 1111";

    private IGrainFactory Grains => gateway.Services.GetRequiredService<IGrainFactory>();

    [Fact]
    public async Task A_card_number_is_redacted_in_the_stored_and_the_pushed_message()
    {
        var tenant = NewTenant();
        await UploadAsync(tenant, "redactor", TestPlugins.Emitting([$$"""{"action":"redact","find":"{{Card}}","with":"[card]"}"""]));
        var (visitorId, token) = await NewVisitorAsync(tenant);
        await using var sender = await gateway.ConnectAsync(token);
        await using var otherTab = await gateway.ConnectAsync(token);

        var ack = await sender.SendMessageAsync($"my card is {Card}, where is my order?");

        var pushed = (await otherTab.ReceiveUntilAsync("message"))[^1];
        Assert.Equal("my card is [card], where is my order?", pushed.Str("text"));
        var stored = Assert.Single(await StoredAsync(tenant, visitorId, ack.Str("conversationId")!));
        Assert.Equal(("my card is [card], where is my order?", ack.Str("messageId")), (stored.Text, stored.MessageId.ToString()));
    }

    [Fact]
    public async Task A_dropped_message_gets_a_refused_error_frame_and_nothing_is_stored()
    {
        var tenant = NewTenant();
        await UploadAsync(tenant, "gate", TestPlugins.Emitting(["""{"action":"drop","reason":"Please do not send card numbers."}"""]));
        var (visitorId, token) = await NewVisitorAsync(tenant);
        await using var visitor = await gateway.ConnectAsync(token);

        await visitor.SendAsync(new { type = "send", clientMsgId = "m1", text = Card });

        var error = (await visitor.ReceiveUntilAsync("error"))[^1];
        Assert.Equal((ErrorCodes.Refused, "Please do not send card numbers.", "m1"), (error.Str("code"), error.Str("message"), error.Str("ref")));
        var conversationId = await Grains.GetGrain<IVisitorGrain>(Tenancy.Key(tenant, visitorId)).GetCurrentConversation();
        Assert.Empty(conversationId is null ? [] : await StoredAsync(tenant, visitorId, conversationId));
    }

    [Fact]
    public async Task A_trapping_plugin_lets_messages_through_with_on_error_allow_and_refuses_them_with_refuse()
    {
        var allow = NewTenant();
        await UploadAsync(allow, "trap", TestPlugins.Trapping(), PluginManifest.OnErrorAllow);
        var refuse = NewTenant();
        await UploadAsync(refuse, "trap", TestPlugins.Trapping(), PluginManifest.OnErrorRefuse);
        var (allowedId, allowedToken) = await NewVisitorAsync(allow);
        var (_, refusedToken) = await NewVisitorAsync(refuse);
        await using var allowed = await gateway.ConnectAsync(allowedToken);
        await using var refused = await gateway.ConnectAsync(refusedToken);

        var ack = await allowed.SendMessageAsync("hello " + Card);
        await refused.SendAsync(new { type = "send", clientMsgId = "r1", text = "hello" });

        Assert.Equal("hello " + Card, Assert.Single(await StoredAsync(allow, allowedId, ack.Str("conversationId")!)).Text);
        var error = (await refused.ReceiveUntilAsync("error"))[^1];
        Assert.Equal((ErrorCodes.Refused, "r1"), (error.Str("code"), error.Str("ref")));
    }

    [Fact]
    public async Task A_left_message_a_plugin_drops_is_a_422_problem_with_code_refused()
    {
        var tenant = NewTenant();
        await UploadAsync(tenant, "gate", TestPlugins.Emitting(["""{"action":"drop","reason":"Please do not send card numbers."}"""]));
        var inbox = await Grains.GetGrain<ITenantGrain>(tenant).PutInbox(new InboxConfig("web", "Web", "", "manual", null, [], null, null, null, false));
        Assert.True(inbox.IsOk, inbox.Error?.Message);
        using var anonymous = gateway.Http();

        var response = await anonymous.PostAsJsonAsync($"/api/v1/widget/{inbox.Value!.PublicKey}/messages", new { name = "Ann", email = "ann@example.com", text = Card });

        Assert.Equal(System.Net.HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((ErrorCodes.Refused, "Please do not send card numbers."), (problem.Str("code"), problem.Str("detail")));
    }

    [Fact]
    public async Task A_tenant_without_plugins_chats_as_before()
    {
        var tenant = NewTenant();
        var (visitorId, token) = await NewVisitorAsync(tenant);
        await using var visitor = await gateway.ConnectAsync(token);

        var ack = await visitor.SendMessageAsync("hello " + Card);

        Assert.Equal("hello " + Card, Assert.Single(await StoredAsync(tenant, visitorId, ack.Str("conversationId")!)).Text);
    }

    /// <summary>
    /// Isolation (issue #19 "Security tests"): tenant A's before_message plugin traps on every call (on_error allow) for 1 000
    /// of A's messages while tenant B chats; every B message is acked, stored in order and unchanged; A's are stored unchanged.
    /// </summary>
    [Fact]
    public async Task A_tenant_whose_plugin_traps_a_thousand_times_does_not_disturb_another_tenants_chat()
    {
        var a = NewTenant();
        await UploadAsync(a, "trap", TestPlugins.Trapping(), PluginManifest.OnErrorAllow);
        var b = NewTenant();
        // Within one connection's burst (60 frames), so the rate limit does not pace the test: 20 visitors × 50 messages.
        var aVisitors = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => NewVisitorAsync(a)));
        var bVisitors = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => NewVisitorAsync(b)));

        var aChats = aVisitors.Select((v, i) => ChatAsync(v.Token, Enumerable.Range(0, 50).Select(n => $"a{i}-{n} {Card}").ToArray())).ToArray();
        var bChats = bVisitors.Select((v, i) => ChatAsync(v.Token, Enumerable.Range(0, 50).Select(n => $"b{i}-{n}").ToArray())).ToArray();
        var bAcks = await Task.WhenAll(bChats);
        var aAcks = await Task.WhenAll(aChats);

        for (var i = 0; i < bVisitors.Length; i++)
        {
            var stored = await StoredAsync(b, bVisitors[i].VisitorId, bAcks[i][0].Str("conversationId")!);
            Assert.Equal(Enumerable.Range(0, 50).Select(n => $"b{i}-{n}"), stored.Select(m => m.Text));
            Assert.Equal(stored.Select(m => m.Seq).Order(), stored.Select(m => m.Seq));
        }

        for (var i = 0; i < aVisitors.Length; i++)
        {
            var stored = await StoredAsync(a, aVisitors[i].VisitorId, aAcks[i][0].Str("conversationId")!);
            Assert.Equal(Enumerable.Range(0, 50).Select(n => $"a{i}-{n} {Card}"), stored.Select(m => m.Text));
        }

        var stats = await Grains.GetGrain<IPluginGrain>($"{a}/trap").GetStats();
        Assert.True(stats.Failures >= 20 && stats.Calls == stats.Failures, $"{stats.Calls} calls, {stats.Failures} failures");
    }

    /// <summary>Sends every text at once (pipelined) and returns the acks in order; any error frame fails the test.</summary>
    private async Task<JsonElement[]> ChatAsync(string token, string[] texts)
    {
        await using var client = await gateway.ConnectAsync(token);
        for (var i = 0; i < texts.Length; i++)
        {
            await client.SendAsync(new { type = "send", clientMsgId = "m" + i, text = texts[i] });
        }

        var acks = new List<JsonElement>();
        while (acks.Count < texts.Length)
        {
            var frame = await client.ReceiveAsync();
            Assert.NotEqual("error", frame.Type());
            if (frame.Type() == "ack")
            {
                acks.Add(frame);
            }
        }

        Assert.Equal(Enumerable.Range(0, texts.Length).Select(i => "m" + i), acks.Select(f => f.Str("clientMsgId")));
        return [.. acks];
    }

    private static string NewTenant() => "t" + Guid.NewGuid().ToString("N")[..20];

    /// <summary>A visitor of a fresh tenant, registered directly (a tenant exists for the API once it has an agent) with a token the gateway accepts.</summary>
    private async Task<(string VisitorId, string Token)> NewVisitorAsync(string tenant)
    {
        var visitorId = "v-" + Guid.NewGuid().ToString("N")[..16];
        await Grains.GetGrain<IVisitorGrain>(Tenancy.Key(tenant, visitorId)).Register(new VisitorProfile("Ann", null, Tenancy.DefaultInbox, [], DateTimeOffset.UtcNow));
        return (visitorId, gateway.Services.GetRequiredService<TokenService>().IssueVisitorToken(tenant, visitorId, "Ann").Token);
    }

    /// <summary>The visitor's stored messages in the conversation, in seq order.</summary>
    private async Task<ChatMessage[]> StoredAsync(string tenant, string visitorId, string conversationId)
    {
        var visitor = new Caller(tenant, ParticipantRole.Visitor, visitorId, "Ann", IsAdmin: false);
        var page = await Grains.GetGrain<IConversationGrain>(Tenancy.Key(tenant, conversationId)).GetMessages(visitor, 0, 200);
        Assert.True(page.IsOk, page.Error?.Message);
        return [.. page.Value!.Messages.Where(m => m.Sender.Role == ParticipantRole.Visitor)]; // not the away message of an unstaffed tenant
    }

    private async Task UploadAsync(string tenant, string name, byte[] wasm, string onError = PluginManifest.OnErrorAllow)
    {
        var put = await Grains.GetGrain<IPluginRegistryGrain>(tenant).Put(new PluginUpload(name, wasm, TestPlugins.Manifest(name, [PluginHooks.BeforeMessage], onError), "admin"));
        Assert.True(put.IsOk, put.Error?.Message);
    }
}
