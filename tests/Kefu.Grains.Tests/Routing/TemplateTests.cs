using System.Text.Json;
using Kefu.Grains.Routing;

namespace Kefu.Grains.Tests.Routing;

/// <summary><see cref="Template"/>: placeholders from extracted values, then event data, then the last result; the rest literal.</summary>
public sealed class TemplateTests
{
    private static readonly IReadOnlyDictionary<string, string> None = new Dictionary<string, string>();

    [Fact]
    public void The_seed_reply_keeps_the_hash_literal()
    {
        var result = Parse("您的订单#{order_id}已更新").Render(Scope(None, """{"order_id": 12345}"""));

        Assert.True(result.Succeeded);
        Assert.Equal("您的订单#12345已更新", result.Text);
    }

    [Fact]
    public void Extracted_values_come_first_then_event_data_then_the_last_result()
    {
        var template = Parse("{a}-{b}-{c}-{d.e}-{list.1}");
        var scope = new TemplateScope(
            new Dictionary<string, string> { ["a"] = "extracted" },
            Json("""{"a": "data", "b": "data", "d": {"e": true}}"""),
            Json("""{"a": "result", "b": "result", "c": 4.5, "list": ["x", "y"]}"""));

        Assert.Equal("extracted-data-4.5-true-y", template.Render(scope).Text);
    }

    [Fact]
    public void A_missing_variable_fails_the_render_and_names_it()
    {
        var template = Parse("订单{order_id}: {status} {eta}");
        var scope = Scope(None, """{"order_id": "1", "eta": null}""");

        var result = template.Render(scope);

        Assert.False(result.Succeeded);
        Assert.Null(result.Text);
        Assert.Equal("status", result.Missing);
        Assert.Equal(["status", "eta"], template.Unresolved(scope));
    }

    [Fact]
    public void Double_braces_are_literal_braces()
    {
        var template = Parse("{{literal}} {a} }}");

        Assert.Equal(["a"], template.Variables);
        Assert.Equal("{literal} 1 }", template.Render(Scope(None, """{"a": 1}""")).Text);
    }

    [Fact]
    public void Url_escaping_fills_path_segments_safely()
    {
        var result = Parse("/orders/{id}/sync").Render(Scope(None, """{"id": "a b/c?d"}"""), urlEscape: true);

        Assert.Equal("/orders/a%20b%2Fc%3Fd/sync", result.Text);
    }

    [Fact]
    public void Objects_render_as_json()
    {
        Assert.Equal("""{"x":1}""", Parse("{o}").Render(Scope(None, """{"o": {"x":1}}""")).Text);
    }

    [Theory]
    [InlineData("订单 {order_id", "unclosed '{'")]
    [InlineData("a } b", "unmatched '}'")]
    [InlineData("{}", "invalid placeholder")]
    [InlineData("{a b}", "invalid placeholder")]
    [InlineData("{a.}", "invalid placeholder")]
    [InlineData("{a {b}}", "unclosed '{'")]
    public void An_unbalanced_brace_is_an_error(string source, string error)
    {
        Assert.Null(Template.TryParse(source, out var message));
        Assert.Contains(error, message, StringComparison.Ordinal);
    }

    private static Template Parse(string source) => Template.TryParse(source, out var error) ?? throw new InvalidOperationException(error);

    private static TemplateScope Scope(IReadOnlyDictionary<string, string> extracted, string data) => new(extracted, Json(data), null);

    private static JsonElement Json(string text)
    {
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }
}
