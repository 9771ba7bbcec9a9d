using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Gateway.WebSockets;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kefu.Gateway.Tests.WsGuard;

/// <summary>The per-connection byte budget of the outbound queue, on its own (no socket, no Orleans).</summary>
public sealed class OutboundBudgetTests
{
    private static readonly Caller Visitor = new("default", ParticipantRole.Visitor, "v1", "Ann", IsAdmin: false);

    [Fact]
    public void A_connection_holding_more_bytes_than_its_budget_is_dropped_even_with_few_frames()
    {
        var connection = new ChatConnection(Visitor, "gw-test", null!, new KefuWebSocketOptions { OutboundQueue = 1000, OutboundBytes = 10_000 }, NullLogger.Instance);
        connection.Deliver(Typing(), new byte[4_000]);
        connection.Deliver(Typing(), new byte[4_000]);
        Assert.False(connection.IsStopping);

        connection.Deliver(Typing(), new byte[4_000]);
        Assert.True(connection.IsStopping);
    }

    [Fact]
    public void One_frame_larger_than_the_budget_still_goes_to_an_idle_connection()
    {
        var connection = new ChatConnection(Visitor, "gw-test", null!, new KefuWebSocketOptions { OutboundBytes = 1_000 }, NullLogger.Instance);
        connection.Deliver(Typing(), new byte[5_000]);
        Assert.False(connection.IsStopping);
    }

    private static TypingEvent Typing() => new("c1", new Sender(ParticipantRole.Agent, "a1", "Bob"), On: true);
}
