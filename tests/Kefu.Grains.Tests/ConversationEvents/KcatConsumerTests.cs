using System.Diagnostics;
using System.Text.Json;
using Kefu.Contracts.Grains;
using Kefu.Grains.Tests.Infrastructure;

namespace Kefu.Grains.Tests.ConversationEvents;

/// <summary>
/// An outside consumer: kcat (Debian's package; scripts/test.sh installs it) reads conversation_events as a newcomer
/// would with the command of docs/integration.md §15, and sees each event with its key, CloudEvents headers and envelope.
/// </summary>
[Collection(ConversationEventsCollection.Name)]
public sealed class KcatConsumerTests(ConversationEventsFixture fixture)
{
    private static string Kcat => Environment.GetEnvironmentVariable("KEFU_KCAT") is { Length: > 0 } path ? path : "/usr/bin/kcat";

    [Fact]
    public async Task Kcat_reads_the_events_with_their_keys_headers_and_envelopes()
    {
        Assert.True(File.Exists(Kcat), $"kcat is missing at {Kcat}: apt-get install -y kcat (scripts/test.sh does), or set KEFU_KCAT");
        var tenant = Scenario.NewTenant();
        await fixture.Client.GetGrain<IConversationEventsRelayGrain>(tenant).Start();
        var events = await fixture.AppendAsync(tenant, Enumerable.Range(0, 12).Select(i => ($"conv-{i % 3}", (long)(i / 3) + 1)));
        await fixture.WaitForAsync(tenant, [.. events.Select(e => e.Id.ToString())]);

        var output = await RunKcatAsync("-C", "-b", fixture.Bootstrap, "-t", ConversationEventsFixture.Topic, "-o", "beginning", "-e", "-q", "-f", "%k %h %s\\n");
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(line => line.Contains("ce_source=/kefu/" + tenant + ",", StringComparison.Ordinal))
            .ToList();
        Assert.Equal(events.Count, lines.Count);
        foreach (var line in lines)
        {
            // "<key> <name=value,…> <envelope>": neither the key nor the headers contain a space.
            var parts = line.Split(' ', 3);
            var headers = parts[1].Split(',').Select(h => h.Split('=', 2)).ToDictionary(h => h[0], h => h[1]);
            using var envelope = JsonDocument.Parse(parts[2]);
            var e = Assert.Single(events, e => e.Id.ToString() == headers["ce_id"]);
            Assert.Equal(e.ConversationId, parts[0]);
            Assert.Equal("1.0", headers["ce_specversion"]);
            Assert.Equal("custom.test", headers["ce_type"]);
            Assert.Equal(e.ConversationId, headers["ce_subject"]);
            Assert.Equal("application/json", headers["content-type"]);
            Assert.Equal(headers["ce_id"], envelope.RootElement.GetProperty("id").GetString());
            Assert.Equal(e.Seq, envelope.RootElement.GetProperty("seq").GetInt64());
        }
    }

    /// <summary>Runs kcat to its end (-e: it exits once every partition is read); stopped by its PID if it hangs.</summary>
    private static async Task<string> RunKcatAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(Kcat) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("kcat did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(); // this process's PID only
            await process.WaitForExitAsync();
            Assert.Fail("kcat did not finish within 60 s: " + await stderr);
        }

        Assert.True(process.ExitCode == 0, $"kcat exited with {process.ExitCode}: {await stderr}");
        return await stdout;
    }
}
