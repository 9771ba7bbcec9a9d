namespace Kefu.Gateway.Hosting;

/// <summary>
/// <c>Kefu.Gateway routing check FILE</c>: compiles a ruleset and prints its problems (line:column: message), exit 0 when
/// it is valid, 1 when not (or unreadable). STUB in the base commit: the language helper implements it.
/// </summary>
public static class RoutingCheckCommand
{
    public static bool TryRun(string[] args, TextWriter output, out int exitCode)
    {
        exitCode = 0;
        return false;
    }
}
