using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Contracts.Plugins;
using Kefu.Grains.Tests.Infrastructure;

namespace Kefu.Grains.Tests.Plugins;

/// <summary>
/// The message hooks (issue #19, docs/plugins.md "Where plugins run"): before_message plugins in name order changing or
/// refusing a visitor's text, on_error, a tenant without plugins; after_message tagging and replying once even when the
/// event is read twice.
/// </summary>
[Collection(DefaultClusterCollection.Name)]
public sealed class MessageHookTests(DefaultClusterFixture fixture)
{
    private IClusterClient Client => fixture.Client;

    [Fact]
    public async Task Before_message_plugins_run_in_name_order_and_a_drop_refuses_with_the_plugins_reason()
    {
        var tenant = Scenario.NewTenant();
        await UploadAsync(tenant, "a-rewrite", TestPlugins.Emitting(["""{"action":"replace_text","text":"card 4111 1111 1111 1111 please"}"""]), PluginHooks.BeforeMessage);
        await UploadAsync(tenant, "b-redact", TestPlugins.Emitting(["""{"action":"redact","find":"4111 1111 1111 1111"}"""]), PluginHooks.BeforeMessage);
        var hook = Client.GetGrain<IBeforeMessageHookGrain>(tenant);

        var changed = await hook.Run(new BeforeMessageInput("c1", "default", "hello", "v1"));

        Assert.Equal(("card **** please", false), (changed.Text, changed.Refused));

        var other = Scenario.NewTenant();
        await UploadAsync(other, "gate", TestPlugins.Emitting(["""{"action":"drop","reason":"No card numbers, please."}"""]), PluginHooks.BeforeMessage);
        var refused = await Client.GetGrain<IBeforeMessageHookGrain>(other).Run(new BeforeMessageInput("c1", null, "4111", "v1"));
        Assert.Equal((true, "gate", "No card numbers, please."), (refused.Refused, refused.RefusedBy, refused.Reason));
    }

    [Fact]
    public async Task A_failing_before_message_plugin_lets_the_message_through_or_refuses_it_as_its_manifest_says()
    {
        var allow = Scenario.NewTenant();
        await UploadAsync(allow, "trap", TestPlugins.Trapping(), PluginHooks.BeforeMessage, PluginManifest.OnErrorAllow);
        var refuse = Scenario.NewTenant();
        await UploadAsync(refuse, "trap", TestPlugins.Trapping(), PluginHooks.BeforeMessage, PluginManifest.OnErrorRefuse);
        var none = Scenario.NewTenant();

        var allowed = await Client.GetGrain<IBeforeMessageHookGrain>(allow).Run(new BeforeMessageInput("c1", "default", "hello", "v1"));
        var refused = await Client.GetGrain<IBeforeMessageHookGrain>(refuse).Run(new BeforeMessageInput("c1", "default", "hello", "v1"));
        var untouched = await Client.GetGrain<IBeforeMessageHookGrain>(none).Run(new BeforeMessageInput("c1", "default", "hello", "v1"));

        Assert.Equal(("hello", false), (allowed.Text, allowed.Refused));
        Assert.Equal((true, "trap"), (refused.Refused, refused.RefusedBy));
        Assert.Equal(("hello", false), (untouched.Text, untouched.Refused));
        Assert.Equal(1, (await Client.GetGrain<IPluginGrain>($"{allow}/trap").GetStats()).Failures);
    }

    [Fact]
    public async Task An_upload_and_a_disable_reach_the_cached_hook_set_within_its_refresh_time()
    {
        var tenant = Scenario.NewTenant();
        var hook = Client.GetGrain<IBeforeMessageHookGrain>(tenant);
        var input = new BeforeMessageInput("c1", "default", "card 4111", "v1");
        Assert.Equal("card 4111", (await hook.Run(input)).Text); // the tenant's empty set is cached now

        await UploadAsync(tenant, "redactor", TestPlugins.Emitting(["""{"action":"redact","find":"4111"}"""]), PluginHooks.BeforeMessage);

        await Scenario.EventuallyAsync(() => hook.Run(input), o => o.Text == "card ****", "the new plugin in force", TimeSpan.FromSeconds(5));
        Assert.True((await Client.GetGrain<IPluginRegistryGrain>(tenant).SetEnabled("redactor", false, "admin")).IsOk);
        await Scenario.EventuallyAsync(() => hook.Run(input), o => o.Text == "card 4111", "the disabled plugin out of force", TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task After_message_tags_and_replies_once_even_when_the_event_is_read_twice()
    {
        var tenant = Scenario.NewTenant();
        await UploadAsync(tenant, "helper", TestPlugins.Emitting(
        [
            """{"action":"tag","tag":"order"}""",
            """{"action":"reply","text":"收到，我们马上查询"}""",
            """{"action":"emit","name":"order_question","data":{}}""",
        ]), PluginHooks.AfterMessage);
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var (conversationId, conversation) = await Scenario.StartConversationAsync(Client, visitor);

        Assert.True((await conversation.SendAsync(visitor.Caller, "m1", "我的订单 123 到哪了？")).IsOk);

        await Scenario.EventuallyAsync(() => BotRepliesAsync(conversation, visitor), replies => replies.Length == 1, "the plugin's reply");
        var summary = await Scenario.EventuallyAsync(conversation.GetSummary, s => (s!.Tags ?? []).Contains("order"), "the plugin's tag");
        var hook = Client.GetGrain<IAfterMessageHookGrain>(tenant);
        var first = await hook.GetStatus();
        Assert.Equal(1, first.Handled); // the visitor's message only: the plugin's own reply is a bot's

        await hook.Rewind(0);

        await Scenario.EventuallyAsync(hook.GetStatus, s => s.Handled == 2 && s.Cursor >= first.Cursor, "the event read a second time");
        var replies = await BotRepliesAsync(conversation, visitor);
        Assert.Equal("收到，我们马上查询", Assert.Single(replies).Text);
        Assert.Equal(["order"], (await conversation.GetSummary())!.Tags ?? []);
        var page = await Client.GetGrain<IEventLogGrain>(tenant).Read(0, [EventTypes.PluginEmitted], 100);
        var emitted = Assert.Single(page.Events);
        Assert.Equal(conversationId, System.Text.Json.JsonDocument.Parse(emitted.DataJson).RootElement.GetProperty("conversationId").GetString());
        Assert.Equal((Causation.Rule, "plugin:helper"), (emitted.Causation.Kind, emitted.Causation.Id));
    }

    private static async Task<ChatMessage[]> BotRepliesAsync(IConversationGrain conversation, TestVisitor visitor) =>
        [.. (await conversation.GetMessages(visitor.Caller, 0, 100)).Value!.Messages.Where(m => m.Sender.Role == ParticipantRole.Bot)];

    private async Task UploadAsync(string tenant, string name, byte[] wasm, string hook, string onError = PluginManifest.OnErrorAllow)
    {
        var put = await Client.GetGrain<IPluginRegistryGrain>(tenant).Put(new PluginUpload(name, wasm, TestPlugins.Manifest(name, [hook], onError), "admin"));
        Assert.True(put.IsOk, put.Error?.Message);
    }
}
