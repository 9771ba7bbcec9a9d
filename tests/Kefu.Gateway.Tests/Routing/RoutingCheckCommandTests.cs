using Kefu.Gateway.Hosting;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.Routing;

/// <summary><c>routing check FILE</c>: exit 0 for a valid ruleset, 1 with <c>file:line:col: message</c> lines otherwise.</summary>
public sealed class RoutingCheckCommandTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("kefu-routing-check-").FullName;

    [Fact]
    public void The_repository_file_is_valid()
    {
        var file = Path.Combine(Repository.Root, "config", "routing.yaml");

        var (handled, exit, output) = Run("routing", "check", file);

        Assert.True(handled);
        Assert.Equal(0, exit);
        Assert.Matches($"^{System.Text.RegularExpressions.Regex.Escape(file)}: ok \\(1 route, hash [0-9a-f]{{64}}\\)$", output.Trim());
    }

    [Fact]
    public void Problems_are_printed_as_file_line_column_message_and_exit_1()
    {
        var file = Write("bad.yaml", "routes:\n  - match: order_status\n    actoins:\n      - call: \"ERP::updateOrder\"\n    timeout: 3 seconds\n");

        var (handled, exit, output) = Run("routing", "check", file);

        Assert.True(handled);
        Assert.Equal(1, exit);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(
            [
                $"{file}:2:5: route 'route-1' needs `actions:` (a list, e.g. - reply_template: \"…\")",
                $"{file}:3:5: unknown key 'actoins' in route 1 (did you mean 'actions'?)",
                $"{file}:5:14: `timeout` must be a duration like 250ms, 3s, 2m or 1h, not '3 seconds'",
            ],
            lines);
    }

    [Fact]
    public void One_bad_file_of_several_fails_the_check()
    {
        var good = Write("good.yaml", "routes: []\n");
        var bad = Write("bad.yaml", "routes: [\n");

        var (_, exit, output) = Run("routing", "check", good, bad);

        Assert.Equal(1, exit);
        Assert.Contains($"{good}: ok (0 routes, hash ", output, StringComparison.Ordinal);
        Assert.Contains($"{bad}:2:1: invalid YAML", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_fails_and_says_so()
    {
        var missing = Path.Combine(directory, "none.yaml");

        var (_, exit, output) = Run("routing", "check", missing);

        Assert.Equal(1, exit);
        Assert.StartsWith($"{missing}:0:0: cannot read:", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Other_arguments_start_the_server_and_a_bare_routing_prints_usage()
    {
        Assert.False(Run("--urls", "http://localhost:5000").Handled);
        Assert.False(Run().Handled);
        var (handled, exit, output) = Run("routing");
        Assert.True(handled);
        Assert.Equal(2, exit);
        Assert.StartsWith("usage:", output, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static (bool Handled, int Exit, string Output) Run(params string[] args)
    {
        using var output = new StringWriter { NewLine = "\n" };
        var handled = RoutingCheckCommand.TryRun(args, output, out var exit);
        return (handled, exit, output.ToString());
    }
}
