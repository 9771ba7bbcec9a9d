using System.Diagnostics;

namespace Kefu.Cluster.Tests.Infrastructure;

/// <summary>Runs one of the repository's scripts/*.sh with a verb and environment; its standard output, or why it failed.</summary>
internal static class Scripts
{
    public static async Task<string> RunAsync(string script, IReadOnlyDictionary<string, string> environment, string verb)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(MariaDbDatabase.RepositoryRoot, "scripts", script));
        start.ArgumentList.Add(verb);
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return process.ExitCode == 0
            ? await stdout
            : throw new InvalidOperationException($"scripts/{script} {verb} failed ({process.ExitCode}):\n{await stderr}");
    }
}
