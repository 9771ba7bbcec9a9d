using Kefu.Contracts.Grains;
using Kefu.Grains.Routing;

namespace Kefu.Gateway.Hosting;

/// <summary>
/// <c>Kefu.Gateway routing check FILE…</c>: compiles each ruleset and prints its problems as <c>file:line:column: message</c>
/// (the form editors and CI annotate), exit 0 when every file is valid, 1 when one is not (or unreadable), 2 on a usage
/// error. Starts nothing: no silo, no configuration.
/// </summary>
public static class RoutingCheckCommand
{
    public const string Usage = "usage: Kefu.Gateway routing check FILE [FILE…]   (exit 0 = valid, 1 = problems)";

    public static bool TryRun(string[] args, TextWriter output, out int exitCode)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        exitCode = 0;
        if (args is not ["routing", ..])
        {
            return false;
        }

        if (args is not ["routing", "check", _, ..])
        {
            output.WriteLine(Usage);
            exitCode = 2;
            return true;
        }

        foreach (var file in args[2..])
        {
            if (!Check(file, output))
            {
                exitCode = 1;
            }
        }

        return true;
    }

    private static bool Check(string file, TextWriter output)
    {
        string text;
        try
        {
            if (new FileInfo(file) is { Exists: true, Length: > RoutingLimits.MaxTextBytes })
            {
                output.WriteLine($"{file}:0:0: the file is larger than {RoutingLimits.MaxTextBytes} bytes");
                return false;
            }

            text = File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            output.WriteLine($"{file}:0:0: cannot read: {e.Message}");
            return false;
        }

        var compilation = RuleSetCompiler.Compile(text);
        foreach (var problem in compilation.Problems)
        {
            output.WriteLine($"{file}:{problem.Line}:{problem.Column}: {problem.Message}");
        }

        if (compilation.RuleSet is not { } ruleSet)
        {
            return false;
        }

        output.WriteLine($"{file}: ok ({ruleSet.Routes.Count} route{(ruleSet.Routes.Count == 1 ? "" : "s")}, hash {ruleSet.Hash})");
        return true;
    }
}
