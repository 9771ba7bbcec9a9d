namespace Kefu.Benchmarks;

internal static class Program
{
    /// <summary>The subcommands (the first argument); anything else is the chat load tool (<see cref="BenchmarkOptions"/>).</summary>
    private static readonly (string Name, string Usage, Func<string[], CancellationToken, Task<int>> Run)[] Runs =
    [
        ("webhooks", WebhookRun.Usage, (a, ct) => WebhookRun.RunAsync(a, ct)),
        ("grpc-fanout", GrpcFanoutRun.Usage, (a, ct) => GrpcFanoutRun.RunAsync(a, ct)),
        ("retention", RetentionRun.Usage, (a, ct) => RetentionRun.RunAsync(a, ct)),
        ("reports", ReportsRun.Usage, (a, _) => ReportsRun.RunAsync(a)),
        ("search-backfill", SearchBackfillRun.Usage, (a, ct) => SearchBackfillRun.RunAsync(a, ct)),
        ("search", SearchRun.Usage, (a, ct) => SearchRun.RunAsync(a, ct)),
        ("routing-eval", RoutingEvalRun.Usage, (a, _) => Task.FromResult(RoutingEvalRun.Run(a))),
        ("plugins", PluginsRun.Usage, (a, _) => PluginsRun.RunAsync(a)),
        ("kafka-in", KafkaInboundRun.Usage, (a, ct) => KafkaInboundRun.RunAsync(a, ct)),
        ("kafka-out", KafkaOutRun.Usage, (a, ct) => KafkaOutRun.RunAsync(a, ct)),
        ("crm", CrmRun.Usage, (a, ct) => CrmRun.RunAsync(a, ct)),
        ("plugin-isolation", PluginIsolationRun.Usage, (a, ct) => PluginIsolationRun.RunAsync(a, ct)),
        ("telemetry", TelemetryRun.Usage, (a, ct) => TelemetryRun.RunAsync(a, ct)),
        ("routing", RoutingRun.Usage, (a, ct) => RoutingRun.RunAsync(a, ct)),
        ("history", HistoryRun.Usage, (a, ct) => HistoryRun.RunAsync(a, ct)),
        ("latency-plot", LatencyPlotRun.Usage, (a, ct) => LatencyPlotRun.RunAsync(a, ct)),
        ("idle-merge", IdleMergeRun.Usage, (a, ct) => IdleMergeRun.RunAsync(a, ct)),
    ];

    public static async Task<int> Main(string[] args)
    {
        var run = args is [var name, ..] ? Array.Find(Runs, r => r.Name == name) : default;
        if (args.Contains("--help") || args.Contains("-h"))
        {
            Console.WriteLine(run.Run is null ? BenchmarkOptions.Usage : run.Usage);
            return 0;
        }

        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
        };
        try
        {
            if (run.Run is not null)
            {
                return await run.Run(args[1..], cts.Token);
            }

            var result = await BenchmarkRunner.RunAsync(BenchmarkOptions.Parse(args), cts.Token, args);
            Console.WriteLine(result.Markdown);
            return result.Runs.Any(r => r.Errors.Total > 0) || result.Idle is { Errors.Total: > 0 } || result.Inbound is { Errors: > 0 } ? 3 : 0;
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}\n\n{BenchmarkOptions.Usage}");
            return 2;
        }
        catch (TooManyOpenFilesException e)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}");
            return 4;
        }
        catch (Exception e) when (e is InvalidOperationException or HttpRequestException or OperationCanceledException or TimeoutException)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}");
            return 1;
        }
    }
}
