namespace Kefu.Gateway.WebSockets;

/// <summary>Bound from "Kefu:WebSocket": per-connection limits.</summary>
public sealed class KefuWebSocketOptions
{
    public const string Section = "Kefu:WebSocket";
    public const string JsonSubprotocol = "kefu.v1.json";
    public const string BinarySubprotocol = "kefu.v1.bin";

    /// <summary>A frame larger than this closes the connection with 1009 (message too big).</summary>
    public int MaxFrameBytes { get; set; } = 64 * 1024;

    /// <summary>Longest accepted message text, in characters; longer gets a <c>text_too_long</c> error.</summary>
    public int MaxTextLength { get; set; } = 8 * 1024;

    /// <summary>Sustained client frames per second per connection; beyond it frames get a <c>rate_limited</c> error.</summary>
    public double FramesPerSecond { get; set; } = 30;

    /// <summary>Frames a connection may send in a burst above the sustained rate.</summary>
    public int FrameBurst { get; set; } = 60;

    /// <summary>Rate-limited frames in a row after which the connection is closed with 1008 (policy violation).</summary>
    public int MaxRejectedInARow { get; set; } = 500;

    /// <summary>Frames waiting to be written to one client; a client this far behind is disconnected (it re-syncs on reconnect).</summary>
    public int OutboundQueue { get; set; } = 4096;

    /// <summary>How often the server pings each client.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A client that has not answered a ping for this long is cut off: a lost network or a closed laptop lid ends the
    /// connection (and the agent's presence) within KeepAliveInterval + KeepAliveTimeout instead of at TCP timeout.
    /// </summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Most messages one <c>sync</c> answers; the answer's <c>synced</c> says whether more remain (<c>hasMore</c>) and the
    /// client asks again from <c>throughSeq</c>.
    /// </summary>
    public int SyncPageSize { get; set; } = 200;

    /// <summary>
    /// Bytes waiting to be written to one client. The connection's own answers (a sync page among them) wait while half
    /// of it is taken, so the client's frames are read no faster than it reads its answers; pushed events beyond it
    /// drop the connection like a full <see cref="OutboundQueue"/>. A sync page is cut to fit in half of it.
    /// </summary>
    public int OutboundBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Open WebSockets one participant (visitor or agent) may hold on this gateway; one more is refused before the
    /// upgrade with 429 <c>too_many_connections</c>.
    /// </summary>
    public int MaxConnectionsPerParticipant { get; set; } = 20;
}
