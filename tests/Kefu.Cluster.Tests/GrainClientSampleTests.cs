using Kefu.Cluster.Tests.Infrastructure;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Cluster.Tests;

/// <summary>
/// samples/GrainClient, run as its own process against a real cluster: it joins as an Orleans client through the
/// membership table, posts a bot message that the visitor receives live, and reads the conversation back.
/// </summary>
public sealed class GrainClientSampleTests
{
    [Fact]
    public async Task The_sample_posts_a_bot_message_the_visitor_receives_and_reads_the_conversation()
    {
        await using var cluster = await KefuTestCluster.StartAsync(silos: 1);
        var (_, visitorToken) = await cluster.CreateVisitorAsync();
        await using var visitor = await cluster.ConnectAsync(visitorToken);
        var conversationId = (await visitor.SendMessageAsync("where is my order?")).Str("conversationId")!;

        string[] arguments =
        [
            $"--ConnectionStrings:kefu={cluster.Settings["ConnectionStrings:kefu"]}",
            $"--Kefu:Silo:ClusterId={cluster.Settings["Kefu:Silo:ClusterId"]}",
            $"--Kefu:Silo:ServiceId={cluster.Settings["Kefu:Silo:ServiceId"]}",
            $"--conversation={conversationId}",
            "--text=Your order 12345 has shipped",
            "--bot=Order bot",
            "--clientMsgId=order-12345-shipped",
        ];
        var (exit, output) = await KefuProcess.RunToExitAsync("samples/GrainClient", "Kefu.Samples.GrainClient", arguments, TimeSpan.FromSeconds(90));

        Assert.True(exit == 0, output);
        var seq = Seq(output);
        Assert.True(output.Contains($"{seq} bot Order bot: Your order 12345 has shipped", StringComparison.Ordinal), output);
        Assert.True(output.Contains("1 visitor Visitor: where is my order?", StringComparison.Ordinal), output);
        var pushed = (await visitor.ReceiveUntilAsync("message", f => f.Str("clientMsgId") == "order-12345-shipped"))[^1];
        Assert.Equal("bot", pushed.GetProperty("sender").Str("role"));
        Assert.Equal(seq, pushed.Long("seq"));

        // Run again with the same clientMsgId (a retried job): the original message, nothing new.
        (exit, output) = await KefuProcess.RunToExitAsync("samples/GrainClient", "Kefu.Samples.GrainClient", arguments, TimeSpan.FromSeconds(90));
        Assert.True(exit == 0, output);
        Assert.Equal(seq, Seq(output));
        Assert.False(output.Contains($"\n{seq + 1} ", StringComparison.Ordinal), output);
    }

    private static long Seq(string output) =>
        System.Text.RegularExpressions.Regex.Match(output, @"sent seq=(\d+)") is { Success: true } m ? long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)
            : throw new Xunit.Sdk.XunitException("no 'sent seq=' line:\n" + output);

    [Fact]
    public async Task The_sample_explains_missing_arguments()
    {
        var (exit, output) = await KefuProcess.RunToExitAsync("samples/GrainClient", "Kefu.Samples.GrainClient", ["--text=hi"], TimeSpan.FromSeconds(30));

        Assert.Equal(2, exit);
        Assert.True(output.Contains("ConnectionStrings:kefu is required", StringComparison.Ordinal), output);
    }
}
