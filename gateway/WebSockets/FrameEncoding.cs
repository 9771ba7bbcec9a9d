using System.Net.WebSockets;
using Kefu.Contracts.Messages;

namespace Kefu.Gateway.WebSockets;

/// <summary>How a connection's frames are encoded: its negotiated subprotocol.</summary>
public enum FrameEncoding
{
    /// <summary><c>kefu.v1.json</c>: one JSON object per text message.</summary>
    Json = 0,

    /// <summary><c>kefu.v1.bin</c>: one protobuf ClientFrame/ServerFrame per binary message.</summary>
    Binary = 1,
}

/// <summary>The server → client frames of one encoding, so a connection's handlers do not care which it speaks.</summary>
public abstract class FrameEncoder
{
    public static readonly FrameEncoder Json = new JsonFrameEncoder();

    public static readonly FrameEncoder Binary = new ProtobufFrameEncoder();

    public abstract FrameEncoding Encoding { get; }

    /// <summary>The WebSocket message type of every frame, both ways.</summary>
    public abstract WebSocketMessageType MessageType { get; }

    public static FrameEncoder For(FrameEncoding encoding) => encoding == FrameEncoding.Binary ? Binary : Json;

    public abstract byte[] Event(ChatEvent @event);

    public abstract byte[] Message(ChatMessage message);

    public abstract byte[] Ack(SendAck ack);

    public abstract byte[] Joined(string conversationId, long lastSeq);

    public abstract byte[] Synced(string conversationId, long lastSeq, long throughSeq, bool hasMore);

    public abstract byte[] Pong();

    public abstract byte[] Status(AgentStatus status);

    public abstract byte[] Error(string code, string message, string? reference = null);

    private sealed class JsonFrameEncoder : FrameEncoder
    {
        public override FrameEncoding Encoding => FrameEncoding.Json;

        public override WebSocketMessageType MessageType => WebSocketMessageType.Text;

        public override byte[] Event(ChatEvent @event) => FrameWriter.Event(@event);

        public override byte[] Message(ChatMessage message) => FrameWriter.Message(message);

        public override byte[] Ack(SendAck ack) => FrameWriter.Ack(ack);

        public override byte[] Joined(string conversationId, long lastSeq) => FrameWriter.Joined(conversationId, lastSeq);

        public override byte[] Synced(string conversationId, long lastSeq, long throughSeq, bool hasMore) => FrameWriter.Synced(conversationId, lastSeq, throughSeq, hasMore);

        public override byte[] Pong() => FrameWriter.Pong();

        public override byte[] Status(AgentStatus status) => FrameWriter.Status(status);

        public override byte[] Error(string code, string message, string? reference = null) => FrameWriter.Error(code, message, reference);
    }

    private sealed class ProtobufFrameEncoder : FrameEncoder
    {
        public override FrameEncoding Encoding => FrameEncoding.Binary;

        public override WebSocketMessageType MessageType => WebSocketMessageType.Binary;

        public override byte[] Event(ChatEvent @event) => ProtobufFrameWriter.Event(@event);

        public override byte[] Message(ChatMessage message) => ProtobufFrameWriter.Message(message);

        public override byte[] Ack(SendAck ack) => ProtobufFrameWriter.Ack(ack);

        public override byte[] Joined(string conversationId, long lastSeq) => ProtobufFrameWriter.Joined(conversationId, lastSeq);

        public override byte[] Synced(string conversationId, long lastSeq, long throughSeq, bool hasMore) => ProtobufFrameWriter.Synced(conversationId, lastSeq, throughSeq, hasMore);

        public override byte[] Pong() => ProtobufFrameWriter.Pong();

        public override byte[] Status(AgentStatus status) => ProtobufFrameWriter.Status(status);

        public override byte[] Error(string code, string message, string? reference = null) => ProtobufFrameWriter.Error(code, message, reference);
    }
}
