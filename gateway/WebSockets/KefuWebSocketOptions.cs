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

    /// <summary>
    /// <c>send</c> frames of one connection handled at once when they are for different conversations (an agent answering
    /// many chats). Sends of one conversation, and every other frame, wait for the sends before them; answers are queued
    /// in the order the frames came (ChatConnection). 1 handles every frame alone.
    /// </summary>
    public int MaxSendsInFlight { get; set; } = 8;

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
    /// Messages read from the store at a time by a <c>sync</c> (a plain sync streams every page; one with <c>limit</c>
    /// gets at most one page, capped here, and <c>synced.hasMore</c>).
    /// </summary>
    public int SyncPageSize { get; set; } = 200;

    /// <summary>
    /// Bytes of sync pages one connection may have queued: the next page is read and queued only once the queue is
    /// below it, and a page is cut to fit it, so a 30-byte <c>sync</c> never makes the gateway hold a whole history.
    /// At most half of <see cref="OutboundBytes"/> counts (pushed events keep the other half).
    /// </summary>
    public int SyncByteBudget { get; set; } = 256 * 1024;

    /// <summary>
    /// Bytes waiting to be written to one client. The connection's own answers wait while half of it is taken, so the
    /// client's frames are read no faster than it reads its answers; pushed events beyond it drop the connection like a
    /// full <see cref="OutboundQueue"/>.
    /// </summary>
    public int OutboundBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Open WebSockets one participant (visitor or agent) may hold on this gateway; one more is refused before the
    /// upgrade with 429 <c>too_many_connections</c>.
    /// </summary>
    public int MaxConnectionsPerParticipant { get; set; } = 20;
}
