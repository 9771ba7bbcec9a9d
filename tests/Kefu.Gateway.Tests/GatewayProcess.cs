using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests;

/// <summary>
/// The gateway binary started as a newcomer starts it (<c>dotnet Kefu.Gateway.dll</c>, no admin password configured),
/// with every line it writes kept. Disposing kills it by its PID if it still runs.
/// </summary>
internal sealed partial class GatewayProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly TaskCompletionSource<string> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _outputDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _errorDone = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private GatewayProcess(Process process) => _process = process;

    public string Address { get; private set; } = "";

    public Uri WebSocketUri => new(Address.Replace("http", "ws", StringComparison.Ordinal) + "/ws");

    /// <summary>The admin password printed at a first start, if one was.</summary>
    public string? PrintedPassword => _lines.Select(l => PasswordLine().Match(l)).FirstOrDefault(m => m.Success)?.Groups[1].Value;

    public string Output => string.Join('\n', _lines);

    public bool HasExited => _process.HasExited;

    /// <param name="workingDirectory">Where it is started from (default: its own folder).</param>
    public static async Task<GatewayProcess> StartAsync(string statePath, string? workingDirectory = null, params string[] extraArguments)
    {
        // Through `env --default-signal=INT`: a process started in the background by a non-interactive shell (CI's
        // test run, `cmd &`) inherits SIGINT as *ignored*, .NET keeps an inherited ignore (Ctrl+C then does nothing),
        // and Process.Start passes the test host's disposition on. Ctrl+C in a terminal reaches a gateway with SIGINT at
        // its default, so that is what this test gives it. env execs dotnet: the PID stays the gateway's.
        var start = new ProcessStartInfo("env")
        {
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("--default-signal=INT");
        start.ArgumentList.Add("dotnet");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Kefu.Gateway.dll"));
        start.ArgumentList.Add($"--urls=http://127.0.0.1:{GatewayFixture.FreePort()}");
        start.ArgumentList.Add($"--Kefu:Silo:SiloPort={GatewayFixture.FreePort()}");
        start.ArgumentList.Add($"--Kefu:Silo:GatewayPort={GatewayFixture.FreePort()}");
        start.ArgumentList.Add($"--Kefu:Embedded:StatePath={statePath}");
        foreach (var argument in extraArguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment.Remove("Kefu__Bootstrap__AdminPassword");
        start.Environment.Remove("Kefu__Auth__SigningKey");
        var gateway = new GatewayProcess(Process.Start(start)!);
        gateway.Attach();
        try
        {
            gateway.Address = await gateway._ready.Task.WaitAsync(TimeSpan.FromSeconds(90));
        }
        catch (Exception)
        {
            await gateway.DisposeAsync();
            throw;
        }

        return gateway;
    }

    /// <summary>Ctrl+C: SIGINT to the process; returns its exit code once it has exited, and how long that took.</summary>
    public async Task<(int ExitCode, TimeSpan Took)> InterruptAsync(TimeSpan limit)
    {
        var stopwatch = Stopwatch.StartNew();
        using (var kill = Process.Start("kill", ["-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The gateway did not exit within {limit} after SIGINT:\n{Output}");
        }

        var took = stopwatch.Elapsed;
        await Task.WhenAll(_outputDone.Task, _errorDone.Task).WaitAsync(TimeSpan.FromSeconds(10));
        return (_process.ExitCode, took);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Attach()
    {
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _outputDone.TrySetResult();
                _ready.TrySetException(new InvalidOperationException("The gateway exited early:\n" + Output));
                return;
            }

            _lines.Enqueue(e.Data);
            if (ReadyLine().Match(e.Data) is { Success: true } ready)
            {
                _ready.TrySetResult(ready.Groups[1].Value);
            }
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _errorDone.TrySetResult();
                return;
            }

            _lines.Enqueue(e.Data);
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    [GeneratedRegex(@"^\s*password: (\S+)\s*$")]
    private static partial Regex PasswordLine();

    [GeneratedRegex(@"^Kefu gateway ready: (http://\S+)")]
    private static partial Regex ReadyLine();
}
