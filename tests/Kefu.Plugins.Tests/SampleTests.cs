using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kefu.Contracts.Plugins;

namespace Kefu.Plugins.Tests;

/// <summary>
/// The AssemblyScript sample (samples/plugins/order-triage) through the real engine, with its own manifest. The module
/// is built by the sample's build.sh (scripts/test.sh runs it first); a missing build fails, it never skips.
/// </summary>
public sealed class SampleTests : IDisposable
{
    private readonly PluginEngine engine = PluginTestKit.Engine();

    public static byte[] SampleWasm()
    {
        var path = Path.Combine(PluginTestKit.RepositoryRoot().FullName, "samples", "plugins", "order-triage", "build", "order-triage.wasm");
        if (!File.Exists(path))
            Assert.Fail($"{path} is missing: run samples/plugins/order-triage/build.sh (needs npm)");
        return File.ReadAllBytes(path);
    }

    /// <summary>The sample's manifest.json as Kefu reads it (the upload API's job in production), with an optional config.</summary>
    public static PluginManifest SampleManifest(string? config = null)
    {
        var path = Path.Combine(PluginTestKit.RepositoryRoot().FullName, "samples", "plugins", "order-triage", "manifest.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var limits = json["limits"]!;
        return new PluginManifest(
            json["name"]!.GetValue<string>(), json["version"]!.GetValue<string>(),
            json["hooks"]!.AsArray().Select(h => h!.GetValue<string>()).ToArray(),
            new PluginLimits(limits["fuel"]!.GetValue<long>(), limits["timeout_ms"]!.GetValue<int>(), limits["memory_mb"]!.GetValue<int>()),
            json["wasi"]!.GetValue<bool>(), [], json["on_error"]!.GetValue<string>(), config ?? json["config"]!.ToJsonString());
    }

    // Both encoders Kefu may use: the default one writes every non-ASCII character as \uXXXX, the relaxed one as UTF-8.
    public static readonly TheoryData<bool> Escaping = new() { true, false };

    public static string MessageInput(string hook, string text, bool escapeNonAscii, string config = """{"tag":"order"}""")
    {
        var input = new JsonObject
        {
            ["abi"] = 1,
            ["hook"] = hook,
            ["tenant"] = "default",
            ["plugin"] = "order-triage",
            ["config"] = JsonNode.Parse(config),
            ["time_left_ms"] = 98,
            ["message"] = new JsonObject
            {
                ["conversation_id"] = "01JCONVERSATION",
                ["inbox"] = "web",
                ["text"] = text,
                ["sender"] = new JsonObject { ["role"] = "visitor", ["id"] = "v-1" },
            },
        };
        return input.ToJsonString(new JsonSerializerOptions { Encoder = escapeNonAscii ? JavaScriptEncoder.Default : JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    private static string RouteInput(JsonObject data, bool escapeNonAscii, string type = "message.created") =>
        new JsonObject
        {
            ["abi"] = 1,
            ["hook"] = PluginHooks.Route,
            ["tenant"] = "default",
            ["plugin"] = "order-triage",
            ["config"] = new JsonObject { ["tag"] = "order" },
            ["event"] = new JsonObject { ["id"] = "01JEVENT", ["type"] = type, ["tenant"] = "default", ["data"] = data },
            ["vars"] = new JsonObject(),
        }.ToJsonString(new JsonSerializerOptions { Encoder = escapeNonAscii ? JavaScriptEncoder.Default : JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    private async Task<PluginCallResult> Run(string hook, string input, string? config = null)
    {
        using var sandbox = engine.CreateSandbox(SampleWasm(), SampleManifest(config));
        var result = await engine.CallAsync(sandbox, new PluginCall(hook, input, null), default);
        Assert.True(result.Ok, $"{result.ErrorCode}: {result.Reason}");
        return result;
    }

    private static JsonObject Json(PluginAction action) => JsonNode.Parse(action.Json)!.AsObject();

    [Fact]
    public void The_sample_passes_upload_validation_with_its_manifest() =>
        Assert.Null(engine.Validate(SampleWasm(), SampleManifest()));

    [Theory]
    [MemberData(nameof(Escaping))]
    public async Task A_card_number_in_chinese_text_is_redacted(bool escapeNonAscii)
    {
        const string text = "你好，我的卡号是 4111 1111 1111 1111，请帮我退款";
        var result = await Run(PluginHooks.BeforeMessage, MessageInput(PluginHooks.BeforeMessage, text, escapeNonAscii));
        var action = Assert.Single(result.Actions);
        Assert.Equal(PluginActionKinds.Redact, action.Kind);
        Assert.Equal("4111 1111 1111 1111", Json(action)["find"]!.GetValue<string>());
        Assert.Equal("你好，我的卡号是 [card]，请帮我退款", PluginOutputReader.ApplyText(text, result.Actions));
    }

    [Theory]
    [MemberData(nameof(Escaping))]
    public async Task Card_numbers_in_english_text_are_redacted_with_dashes_and_without_separators(bool escapeNonAscii)
    {
        // Mastercard test number with dashes, Amex (15 digits) without separators, then an expiry that must stay.
        const string text = "Pay with 5500-0000-0000-0004 or 378282246310005, exp 12/27. \"Thanks\"";
        var result = await Run(PluginHooks.BeforeMessage, MessageInput(PluginHooks.BeforeMessage, text, escapeNonAscii));
        Assert.Equal(["5500-0000-0000-0004", "378282246310005"], result.Actions.Select(a => Json(a)["find"]!.GetValue<string>()));
        Assert.Equal("Pay with [card] or [card], exp 12/27. \"Thanks\"", PluginOutputReader.ApplyText(text, result.Actions));
    }

    [Fact]
    public async Task A_card_number_followed_by_more_digits_is_found_inside_the_run()
    {
        // 16 card digits, then a 4-digit year in the same space-separated run: the card part alone passes Luhn.
        const string text = "卡 4111 1111 1111 1111 2027 到期";
        var result = await Run(PluginHooks.BeforeMessage, MessageInput(PluginHooks.BeforeMessage, text, true));
        Assert.Equal("卡 [card] 2027 到期", PluginOutputReader.ApplyText(text, result.Actions));
    }

    [Fact]
    public async Task Full_width_card_digits_are_redacted_too()
    {
        const string text = "卡号４１１１１１１１１１１１１１１１谢谢";
        var result = await Run(PluginHooks.BeforeMessage, MessageInput(PluginHooks.BeforeMessage, text, false));
        Assert.Equal("卡号[card]谢谢", PluginOutputReader.ApplyText(text, result.Actions));
    }

    [Theory]
    [InlineData("订单号 4111 1111 1111 1112 到哪了")]       // 16 digits, Luhn fails
    [InlineData("Call me at 13800138000 or 010-6552-9988")] // phone numbers: too short
    [InlineData("order 12345678901234567890123")]           // 23 digits in one group: not a card
    [InlineData("no digits at all")]
    public async Task Digits_that_are_not_a_card_number_stay(string text)
    {
        var result = await Run(PluginHooks.BeforeMessage, MessageInput(PluginHooks.BeforeMessage, text, true));
        Assert.Empty(result.Actions);
    }

    [Fact]
    public async Task The_replacement_comes_from_the_config()
    {
        const string text = "card 4111111111111111";
        var result = await Run(PluginHooks.BeforeMessage, MessageInput(PluginHooks.BeforeMessage, text, true), """{"with":"[卡号已隐藏 \"x\"]"}""");
        Assert.Equal("card [卡号已隐藏 \"x\"]", PluginOutputReader.ApplyText(text, result.Actions));
    }

    [Theory]
    [InlineData("我的订单到哪了？", true)]
    [InlineData("请问什么时候发货", true)]
    [InlineData("快递单号是多少", true)]
    [InlineData("我要退款", true)]
    [InlineData("Where is my package?", true)]
    [InlineData("Can I get a REFUND for order 123?", true)]
    [InlineData("What's the tracking number?", true)]
    [InlineData("你好，请问营业时间？", false)]
    [InlineData("Hello, I would like to know your opening hours in order to visit.", false)]
    [InlineData("The border is closed", false)]
    public async Task Order_questions_are_tagged_in_chinese_and_english(string text, bool order)
    {
        foreach (var escape in new[] { true, false })
        {
            var result = await Run(PluginHooks.AfterMessage, MessageInput(PluginHooks.AfterMessage, text, escape));
            if (!order)
            {
                Assert.Empty(result.Actions);
                continue;
            }
            Assert.Equal([PluginActionKinds.Tag, PluginActionKinds.SetAttribute], result.Actions.Select(a => a.Kind));
            Assert.Equal("order", Json(result.Actions[0])["tag"]!.GetValue<string>());
            Assert.Equal("last_intent", Json(result.Actions[1])["key"]!.GetValue<string>());
            Assert.Equal("order_status", Json(result.Actions[1])["value"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task The_tag_comes_from_the_config()
    {
        var result = await Run(PluginHooks.AfterMessage, MessageInput(PluginHooks.AfterMessage, "物流信息", true), """{"tag":"订单咨询"}""");
        Assert.Equal("订单咨询", Json(result.Actions[0])["tag"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("我的订单 123456 到哪了？", "order_status", "123456")]
    [InlineData("订单号：８８１２３４５ 还没发货", "order_status", "8812345")]
    [InlineData("Where is my order #A-1? It is order number 55123", "order_status", "55123")]
    [InlineData("Tracking for #900100 please", "order_status", "900100")]
    [InlineData("你好", "other", null)]
    public async Task Route_sets_the_intent_and_the_order_id(string text, string intent, string? orderId)
    {
        foreach (var escape in new[] { true, false })
        {
            var data = new JsonObject { ["message"] = new JsonObject { ["text"] = text, ["sender"] = new JsonObject { ["role"] = "visitor" } } };
            var result = await Run(PluginHooks.Route, RouteInput(data, escape));
            var sets = result.Actions.Select(Json).ToDictionary(a => a["name"]!.GetValue<string>(), a => a["value"]!.GetValue<string>());
            Assert.All(result.Actions, a => Assert.Equal(PluginActionKinds.Set, a.Kind));
            Assert.Equal(intent, sets["intent"]);
            Assert.Equal(orderId, sets.GetValueOrDefault("order_id"));
        }
    }

    [Fact]
    public async Task Route_takes_the_order_id_of_a_business_event()
    {
        var result = await Run(PluginHooks.Route, RouteInput(new JsonObject { ["order_id"] = "98765", ["status"] = "shipped" }, true, "inbound.received"));
        var sets = result.Actions.Select(Json).ToDictionary(a => a["name"]!.GetValue<string>(), a => a["value"]!.GetValue<string>());
        Assert.Equal("other", sets["intent"]);
        Assert.Equal("98765", sets["order_id"]);
    }

    [Fact]
    public async Task A_kept_instance_answers_many_calls_without_growing()
    {
        // The sample empties its arena after every call: a long-lived instance must not run out of memory or fuel.
        using var sandbox = engine.CreateSandbox(SampleWasm(), SampleManifest());
        var input = MessageInput(PluginHooks.BeforeMessage, "卡号 4111 1111 1111 1111 " + new string('x', 60_000), true);
        for (var i = 0; i < 2_000; i++)
        {
            var result = await engine.CallAsync(sandbox, new PluginCall(PluginHooks.BeforeMessage, input, null), default);
            Assert.True(result.Ok, $"call {i}: {result.ErrorCode}: {result.Reason}");
            Assert.Single(result.Actions);
        }
        Assert.Equal(2_000, sandbox.Calls);
    }

    public void Dispose() => engine.Dispose();
}
