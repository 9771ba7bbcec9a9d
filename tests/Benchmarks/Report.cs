using System.Globalization;
using System.Text;

namespace Kefu.Benchmarks;

/// <summary>The markdown summary of a result.</summary>
public static class Report
{
    public static string Markdown(BenchmarkResult result, BenchmarkOptions options)
    {
        var sb = new StringBuilder();
        Line(sb, $"# Kefu benchmark — {result.StartedAt:yyyy-MM-dd HH:mm:ss} UTC");
        Line(sb);
        Line(sb, $"Machine `{result.Machine}`, {result.ProcessorCount} cores, {result.Runtime}.");
        if (result.CommandLine.Length > 0)
        {
            Line(sb, $"Command line: `{result.CommandLine}`");
        }

        Line(sb);
        if (result.Inbound is { } inbound)
        {
            InboundRun.Markdown(sb, inbound);
            return sb.ToString();
        }

        if (result.Idle is { } idle)
        {
            Idle(sb, idle);
            return sb.ToString();
        }

        var mode = options.Mode == BenchmarkMode.Rate ? $"fixed rate {options.Rate.ToString(CultureInfo.InvariantCulture)} msgs/s" : "closed loop";
        Line(sb, $"{options.Visitors} visitors, {options.Agents} agents, {mode}, {options.MessageBytes}-byte messages, warmup {options.Warmup.TotalSeconds}s, measured {options.Duration.TotalSeconds}s.");
        Line(sb);
        Line(sb, "| target | delivered msgs/s | to agents | to visitors | e2e p50 | e2e p99 | e2e p99.9 | e2e max | ack p50 | ack p99 | ack p99.9 | ack max | connect/s | errors | gateway RSS/conn |");
        Line(sb, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in result.Runs)
        {
            Line(sb, $"| {r.Target} | {r.DeliveredPerSecond:F1} | {r.DeliveredToAgents} | {r.DeliveredToVisitors} | {Ms(r.EndToEnd.P50Us)} | {Ms(r.EndToEnd.P99Us)} | {Ms(r.EndToEnd.P999Us)} | {Ms(r.EndToEnd.MaxUs)} | {Ms(r.Ack.P50Us)} | {Ms(r.Ack.P99Us)} | {Ms(r.Ack.P999Us)} | {Ms(r.Ack.MaxUs)} | {r.ConnectPerSecond:F0} | {r.Errors.Total} | {Rss(r.GatewayRssPerConnectionKb)} |");
        }

        Line(sb);
        if (result.KefuToRelayRatio is { } ratio)
        {
            Line(sb, options.Mode == BenchmarkMode.Rate
                ? $"Kefu delivered {ratio:P1} of the relay's msgs/s at the same fixed rate (100 % = both kept up; compare the latencies, or use the closed loop for throughput)."
                : $"**Kefu throughput = {ratio:P1} of the raw relay** (delivered msgs/s, same machine, same run).");
            Line(sb);
        }

        foreach (var r in result.Runs.Where(r => r.Errors.Total > 0))
        {
            Line(sb, $"Errors ({r.Target}): {r.Errors.ErrorFrames} error frames, {r.Errors.Disconnects} disconnects, {r.Errors.Timeouts} timeouts, {r.Errors.ConnectFailures} connect failures, {r.Errors.Other} other.");
            foreach (var sample in r.ErrorSamples)
            {
                Line(sb, $"- {sample}");
            }

            Line(sb);
        }

        Line(sb, "Latencies in ms (HdrHistogram, µs resolution). e2e = send → the other side receives the `message`; ack = send → `ack`. Delivered counts messages received in the measurement window, both directions.");
        return sb.ToString();
    }

    private static void Idle(StringBuilder sb, IdleResult r)
    {
        Line(sb, $"Idle connections: {r.Requested} requested over {r.Visitors} visitors, {r.SourceAddresses} source addresses, held {r.HeldSeconds}s.");
        Line(sb);
        Line(sb, "| opened | still open at end | dropped | connect/s | pings | pongs | ping p50 | ping p99 | ping max | errors | gateway RSS before | after | RSS/conn |");
        Line(sb, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        Line(sb, $"| {r.Opened} | {r.StillOpen} | {r.Opened - r.StillOpen} | {r.ConnectPerSecond:F0} | {r.PingsSent} | {r.PongsReceived} | {Ms(r.PingRoundTrip.P50Us)} | {Ms(r.PingRoundTrip.P99Us)} | {Ms(r.PingRoundTrip.MaxUs)} | {r.Errors.Total} | {Kb(r.GatewayRssBeforeKb)} | {Kb(r.GatewayRssAfterKb)} | {Rss(r.GatewayRssPerConnectionKb)} |");
        Line(sb);
        foreach (var sample in r.ErrorSamples)
        {
            Line(sb, $"- {sample}");
        }
    }

    private static string Ms(long micros) => (micros / 1000.0).ToString("F2", CultureInfo.InvariantCulture);

    private static string Rss(double? kb) => kb is { } v ? v.ToString("F1", CultureInfo.InvariantCulture) + " KiB" : "—";

    private static string Kb(long? kb) => kb is { } v ? (v / 1024.0).ToString("F0", CultureInfo.InvariantCulture) + " MiB" : "—";

    private static void Line(StringBuilder sb, string text = "") => sb.Append(text).Append('\n');
}
