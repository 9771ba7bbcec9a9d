using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Kefu.Grains.Tests.Routing;

/// <summary>config/routing.schema.json describes what the compiler accepts: the repository's file and the full example validate, mistakes do not.</summary>
public sealed class RoutingSchemaTests
{
    private static readonly JsonSchema Schema = JsonSchema.FromText(File.ReadAllText(RepositoryFiles.Path("config/routing.schema.json")));

    [Fact]
    public void The_repository_file_compiles_and_validates_against_the_schema()
    {
        var text = File.ReadAllText(RepositoryFiles.Path("config/routing.yaml"));

        RuleSetCompilerTests.CompileOk(text);
        AssertValid(text);
    }

    [Fact]
    public void The_seed_and_the_full_example_validate()
    {
        AssertValid(RuleSetCompilerTests.Seed);
        AssertValid(RuleSetCompilerTests.FullExample);
    }

    [Fact]
    public void Every_complete_example_in_the_docs_compiles_and_validates()
    {
        var markdown = File.ReadAllText(RepositoryFiles.Path("docs/routing.md"));
        var blocks = System.Text.RegularExpressions.Regex.Matches(markdown, "```yaml\n(.*?)```", System.Text.RegularExpressions.RegexOptions.Singleline)
            .Select(m => m.Groups[1].Value)
            .Where(b => (b.StartsWith("routes:", StringComparison.Ordinal) || b.Contains("\nroutes:", StringComparison.Ordinal)) && !b.Contains('…', StringComparison.Ordinal))
            .ToArray();

        Assert.True(blocks.Length >= 3, $"found {blocks.Length} complete examples");
        foreach (var block in blocks)
        {
            RuleSetCompilerTests.CompileOk(block);
            AssertValid(block);
        }
    }

    [Theory]
    [InlineData("routes:\n  - match: x\n    actoins: [ { tag: a } ]\n")]
    [InlineData("routes:\n  - on: x\n    timeout: 3\n    actions: [ { tag: a } ]\n")]
    [InlineData("routes:\n  - on: x\n    actions: [ { status: closed } ]\n")]
    [InlineData("routes:\n  - on: x\n    when: { equals: { a: 1 } }\n    actions: [ { tag: a } ]\n")]
    [InlineData("connectors:\n  ERP: { baseUrl: \"http://e\", auth: { header: X, token: t }, operations: {} }\nroutes: []\n")]
    [InlineData("routes:\n  - on: x\n    actions: [ { plugin: Order_Triage } ]\n")]
    [InlineData("routes:\n  - on: x\n    actions: [ { plugin: triage, retry: 2 } ]\n")]
    public void What_the_compiler_refuses_the_schema_refuses(string yaml)
    {
        Assert.NotEmpty(Kefu.Grains.Routing.RuleSetCompiler.Compile(yaml).Problems);
        Assert.False(Schema.Evaluate(ToJson(yaml)).IsValid);
    }

    private static void AssertValid(string yaml)
    {
        var result = Schema.Evaluate(ToJson(yaml), new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, string.Join("\n", (result.Details ?? []).Where(d => d.Errors is { Count: > 0 }).Select(d => $"{d.InstanceLocation}: {string.Join("; ", d.Errors!.Values)}")));
    }

    /// <summary>YAML → JSON the way YAML 1.2's core schema reads plain scalars (numbers, true/false, null).</summary>
    private static JsonElement ToJson(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var node = Convert(stream.Documents[0].RootNode);
        using var document = JsonDocument.Parse(node?.ToJsonString() ?? "null");
        return document.RootElement.Clone();
    }

    private static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode mapping => new JsonObject(mapping.Children.Select(p => KeyValuePair.Create(((YamlScalarNode)p.Key).Value!, Convert(p.Value)))),
        YamlSequenceNode sequence => new JsonArray([.. sequence.Children.Select(Convert)]),
        YamlScalarNode { Style: ScalarStyle.Plain, Value: "" or "~" or "null" } => null,
        YamlScalarNode { Style: ScalarStyle.Plain, Value: "true" or "false" } s => JsonValue.Create(s.Value == "true"),
        YamlScalarNode { Style: ScalarStyle.Plain } s when long.TryParse(s.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) => JsonValue.Create(l),
        YamlScalarNode { Style: ScalarStyle.Plain } s when double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => JsonValue.Create(d),
        YamlScalarNode s => JsonValue.Create(s.Value),
        _ => throw new InvalidOperationException("unexpected YAML node"),
    };
}
