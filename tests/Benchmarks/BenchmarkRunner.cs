using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kefu.Benchmarks;

/// <summary>Runs a benchmark as described by <see cref="BenchmarkOptions"/>; bounded in time and count.</summary>
public static class BenchmarkRunner
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static async Task<BenchmarkResult> RunAsync(BenchmarkOptions options, CancellationToken cancellationToken, IEnumerable<string>? commandLine = null)
    {
        options.Validate();

        // The hard cap: setup + warmup + duration (+ the relay run) + margins for draining and closing.
        using var cap = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var runs = options.CompareRelay ? 2 : 1;
        // A coordinated idle run may wait at its barrier for as long as the setup timeout again.
        var barrier = options.BarrierPath is null ? TimeSpan.Zero : options.SetupTimeout;
        cap.CancelAfter(runs * (options.SetupTimeout + options.Warmup + options.Duration + TimeSpan.FromMinutes(1)) + barrier);
        var ct = cap.Token;

        var result = new BenchmarkResult { StartedAt = DateTimeOffset.UtcNow, CommandLine = Redact(commandLine) };
        var urls = options.Urls.ToArray();
        if (options.Mode == BenchmarkMode.Idle)
        {
            result.Idle = await new IdleRun(options, urls).RunAsync(ct);
        }
        else if (options.Mode == BenchmarkMode.Inbound)
        {
            result.Inbound = await new InboundRun(options, urls).RunAsync(ct);
        }
        else
        {
            if (options.CompareRelay || options.Target == BenchmarkTarget.Relay)
            {
                await using var relay = await RelayServer.StartAsync(ct);
                result.Runs.Add(await new LoadRun(options, BenchmarkTarget.Relay, [relay.BaseUri]).RunAsync(ct));
            }

            if (options.CompareRelay || options.Target == BenchmarkTarget.Kefu)
            {
                result.Runs.Add(await new LoadRun(options, BenchmarkTarget.Kefu, urls).RunAsync(ct));
            }

            var relayRun = result.Runs.FirstOrDefault(r => r.Target == "relay");
            var kefuRun = result.Runs.FirstOrDefault(r => r.Target == "kefu");
            if (relayRun is { DeliveredPerSecond: > 0 } && kefuRun is not null)
            {
                result.KefuToRelayRatio = Math.Round(kefuRun.DeliveredPerSecond / relayRun.DeliveredPerSecond, 4);
            }
        }

        result.Markdown = Report.Markdown(result, options);
        if (options.OutPath is { } outPath)
        {
            result.JsonPath = Path.GetFullPath(outPath);
            Directory.CreateDirectory(Path.GetDirectoryName(result.JsonPath)!);
            await File.WriteAllTextAsync(result.JsonPath, JsonSerializer.Serialize(result, Json), CancellationToken.None);
        }

        if (options.MarkdownPath is { } markdownPath)
        {
            var full = Path.GetFullPath(markdownPath);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            await File.WriteAllTextAsync(full, result.Markdown, CancellationToken.None);
        }

        return result;
    }

    /// <summary>The command line for the report, without the admin password.</summary>
    private static string Redact(IEnumerable<string>? commandLine)
    {
        var args = commandLine?.ToList() ?? [];
        for (var i = 0; i < args.Count - 1; i++)
        {
            if (args[i] == "--admin-password")
            {
                args[i + 1] = "***";
            }
        }

        return string.Join(' ', args);
    }
}
