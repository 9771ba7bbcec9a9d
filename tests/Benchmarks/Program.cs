namespace Kefu.Benchmarks;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Contains("--help") || args.Contains("-h"))
        {
            Console.WriteLine(BenchmarkOptions.Usage);
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
            if (args is ["webhooks", ..])
            {
                if (args.Contains("--help"))
                {
                    Console.WriteLine(WebhookRun.Usage);
                    return 0;
                }

                return await WebhookRun.RunAsync(args[1..], cts.Token);
            }

            if (args is ["grpc-fanout", ..])
            {
                if (args.Contains("--help"))
                {
                    Console.WriteLine(GrpcFanoutRun.Usage);
                    return 0;
                }

                return await GrpcFanoutRun.RunAsync(args[1..], cts.Token);
            }

            if (args is ["retention", ..])
            {
                if (args.Contains("--help"))
                {
                    Console.WriteLine(RetentionRun.Usage);
                    return 0;
                }

                return await RetentionRun.RunAsync(args[1..], cts.Token);
            }

            if (args is ["reports", ..])
            {
                if (args.Contains("--help"))
                {
                    Console.WriteLine(ReportsRun.Usage);
                    return 0;
                }

                return await ReportsRun.RunAsync(args[1..]);
            }

            if (args is ["search-backfill", ..])
            {
                if (args.Contains("--help"))
                {
                    Console.WriteLine(SearchBackfillRun.Usage);
                    return 0;
                }

                return await SearchBackfillRun.RunAsync(args[1..], cts.Token);
            }

            if (args is ["search", ..])
            {
                if (args.Contains("--help"))
                {
                    Console.WriteLine(SearchRun.Usage);
                    return 0;
                }

                return await SearchRun.RunAsync(args[1..], cts.Token);
            }

            if (args is ["routing-eval", ..])
            {
                if (args.Contains("--help"))
                {
                    Console.WriteLine(RoutingEvalRun.Usage);
                    return 0;
                }

                return RoutingEvalRun.Run(args[1..]);
            }

            if (args is ["plugins", ..])
            {
                if (args.Contains("--help"))
                {
                    Console.WriteLine(PluginsRun.Usage);
                    return 0;
                }

                return await PluginsRun.RunAsync(args[1..]);
            }

            if (args is ["kafka-in", ..])
            {
                if (args.Contains("--help"))
                {
                    Console.WriteLine(KafkaInboundRun.Usage);
                    return 0;
                }

                return await KafkaInboundRun.RunAsync(args[1..], cts.Token);
            }

            if (args is ["kafka-out", ..])
            {
                if (args.Contains("--help"))
                {
                    Console.WriteLine(KafkaOutRun.Usage);
                    return 0;
                }

                return await KafkaOutRun.RunAsync(args[1..], cts.Token);
            }

            if (args is ["crm", ..])
            {
                if (args.Contains("--help"))
                {
                    Console.WriteLine(CrmRun.Usage);
                    return 0;
                }

                return await CrmRun.RunAsync(args[1..], cts.Token);
            }

            if (args is ["plugin-isolation", ..])
            {
                if (args.Contains("--help"))
                {
                    Console.WriteLine(PluginIsolationRun.Usage);
                    return 0;
                }

                return await PluginIsolationRun.RunAsync(args[1..], cts.Token);
            }

            if (args is ["telemetry", ..])
            {
                if (args.Contains("--help"))
                {
                    Console.WriteLine(TelemetryRun.Usage);
                    return 0;
                }

                return await TelemetryRun.RunAsync(args[1..], cts.Token);
            }

            if (args is ["routing", ..])
            {
                if (args.Contains("--help"))
                {
                    Console.WriteLine(RoutingRun.Usage);
                    return 0;
                }

                return await RoutingRun.RunAsync(args[1..], cts.Token);
            }

            if (args is ["history", ..])
            {
                if (args.Contains("--help"))
                {
                    Console.WriteLine(HistoryRun.Usage);
                    return 0;
                }

                return await HistoryRun.RunAsync(args[1..], cts.Token);
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
