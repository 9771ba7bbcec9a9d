using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Api;

namespace Kefu.Gateway.WebSockets;

/// <summary>
/// Writes server → client kefu.v1.json frames straight to UTF-8. An event is encoded once per gateway and the same
/// bytes go to every local connection that receives it.
/// </summary>
public static class FrameWriter
{
    // Escape what JSON and HTML need, but leave CJK and other text as UTF-8 (the default encoder would \u-escape it).
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.Create(UnicodeRanges.All), SkipValidation = true };

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    public static byte[] Event(ChatEvent @event) => @event switch
    {
        MessageEvent m => Message(m.Message),
        ConversationEvent c => Conversation(c.Summary),
        TypingEvent t => Write(t, static (w, t) =>
        {
            w.WriteString("type", "typing");
            w.WriteString("conversationId", t.ConversationId);
            WriteSender(w, "sender", t.Sender);
            w.WriteString("state", t.On ? "on" : "off");
        }),
        ReadEvent r => Write(r, static (w, r) =>
        {
            w.WriteString("type", "read");
            w.WriteString("conversationId", r.ConversationId);
            WriteSender(w, "reader", r.Reader);
            w.WriteNumber("seq", r.Seq);
        }),
        QueueEvent q => Write(q, static (w, q) =>
        {
            w.WriteString("type", "queue");
            w.WriteString("conversationId", q.ConversationId);
            w.WriteNumber("position", q.Position);
        }),
        NoteEvent n => Write(n.Note, static (w, n) =>
        {
            w.WriteString("type", "note");
            w.WriteString("conversationId", n.ConversationId);
            w.WriteStartObject("note");
            w.WriteString("noteId", n.NoteId);
            WriteSender(w, "author", n.Author);
            w.WriteString("text", n.Text);
            w.WriteString("ts", n.Ts.UtcDateTime);
            w.WriteEndObject();
        }),
        MentionEvent n => Write(n.Note, static (w, n) =>
        {
            w.WriteString("type", "mention");
            w.WriteString("conversationId", n.ConversationId);
            w.WriteStartObject("note");
            w.WriteString("noteId", n.NoteId);
            WriteSender(w, "author", n.Author);
            w.WriteString("text", n.Text);
            w.WriteString("ts", n.Ts.UtcDateTime);
            w.WriteEndObject();
        }),
        _ => throw new ArgumentOutOfRangeException(nameof(@event), @event.GetType().Name, "Unknown event."),
    };

    public static byte[] Status(AgentStatus status) => Write(status, static (w, s) =>
    {
        w.WriteString("type", "status");
        w.WriteString("state", AgentStatusNames.Name(s));
    });

    public static byte[] Message(ChatMessage m) => Write(m, static (w, m) =>
    {
        w.WriteString("type", "message");
        w.WriteString("conversationId", m.ConversationId);
        w.WriteString("messageId", m.MessageId.ToString());
        w.WriteNumber("seq", m.Seq);
        WriteSender(w, "sender", m.Sender);
        w.WriteString("text", m.Text);
        w.WriteString("ts", m.Ts.UtcDateTime);
        if (m.ClientMsgId is not null)
        {
            w.WriteString("clientMsgId", m.ClientMsgId);
        }

        // Always present: {"kind":"text"} or the attachment's fields; the one JSON form of content (also in events).
        w.WritePropertyName("content");
        EventJson.WriteContent(w, m);
    });

    public static byte[] Conversation(ConversationSummary s) => Write(s, static (w, s) =>
    {
        w.WriteString("type", "conversation");
        w.WriteString("conversationId", s.ConversationId);
        w.WriteString("status", s.Status);
        if (s.AssigneeId is not null)
        {
            w.WriteString("assigneeId", s.AssigneeId);
        }

        w.WriteString("visitorId", s.VisitorId);
        if (s.VisitorName is not null)
        {
            w.WriteString("visitorName", s.VisitorName);
        }

        w.WriteString("inbox", s.Inbox);
        w.WriteNumber("lastSeq", s.LastSeq);
        w.WriteString("createdAt", s.CreatedAt.UtcDateTime);
        if (s.Team is not null)
        {
            w.WriteString("team", s.Team);
        }

        w.WriteString("priority", s.Priority);
        w.WriteStartArray("tags");
        foreach (var tag in s.Tags ?? [])
        {
            w.WriteStringValue(tag);
        }

        w.WriteEndArray();
        if (s.QueuePosition is { } position)
        {
            w.WriteNumber("queuePosition", position);
        }

        if (s.SnoozedUntil is { } until)
        {
            w.WriteString("snoozedUntil", until.UtcDateTime);
        }

        if (s.FirstResponseSeconds is { } firstResponse)
        {
            w.WriteNumber("firstResponseSeconds", Math.Round(firstResponse, 3));
        }

        if (s.ResolutionSeconds is { } resolution)
        {
            w.WriteNumber("resolutionSeconds", Math.Round(resolution, 3));
        }

        if (s.Csat is { } csat)
        {
            w.WriteStartObject("csat");
            w.WriteNumber("rating", csat.Rating);
            if (csat.Comment is not null)
            {
                w.WriteString("comment", csat.Comment);
            }

            w.WriteEndObject();
        }

        // The conversation list's fields (§3.2), always present (null when unset) so a client can apply the frame to
        // its list item as it is.
        w.WriteString("preview", s.Preview);
        w.WriteString("lastActivityAt", s.ActivityAt.UtcDateTime);
        w.WriteNumber("unread", s.Unread);
        w.WriteString("assigneeName", s.AssigneeName);
        if (s.QueuedAt is { } queuedAt)
        {
            w.WriteString("queuedAt", queuedAt.UtcDateTime);
        }
        else
        {
            w.WriteNull("queuedAt");
        }
    });

    public static byte[] Ack(SendAck a) => Write(a, static (w, a) =>
    {
        w.WriteString("type", "ack");
        w.WriteString("clientMsgId", a.ClientMsgId);
        w.WriteString("conversationId", a.ConversationId);
        w.WriteString("messageId", a.MessageId.ToString());
        w.WriteNumber("seq", a.Seq);
        w.WriteString("ts", a.Ts.UtcDateTime);
    });

    public static byte[] Joined(string conversationId, long lastSeq) => Position("joined", conversationId, lastSeq);

    /// <summary>The end of one sync page: <c>throughSeq</c> is the last seq it delivered, <c>hasMore</c> whether later ones remain.</summary>
    public static byte[] Synced(string conversationId, long lastSeq, long throughSeq, bool hasMore) =>
        Write((conversationId, lastSeq, throughSeq, hasMore), static (w, s) =>
        {
            w.WriteString("type", "synced");
            w.WriteString("conversationId", s.conversationId);
            w.WriteNumber("lastSeq", s.lastSeq);
            w.WriteNumber("throughSeq", s.throughSeq);
            w.WriteBoolean("hasMore", s.hasMore);
        });

    public static byte[] Pong() => Write(0, static (w, _) => w.WriteString("type", "pong"));

    /// <summary>An error frame; <paramref name="reference"/> (the clientMsgId) is echoed, cut to 64 characters.</summary>
    public static byte[] Error(string code, string message, string? reference = null) => Write((code, message, reference: reference is { Length: > 64 } ? reference[..64] : reference), static (w, e) =>
    {
        w.WriteString("type", "error");
        w.WriteString("code", e.code);
        w.WriteString("message", e.message);
        if (e.reference is not null)
        {
            w.WriteString("ref", e.reference);
        }
    });

    private static byte[] Position(string type, string conversationId, long lastSeq) => Write((type, conversationId, lastSeq), static (w, p) =>
    {
        w.WriteString("type", p.type);
        w.WriteString("conversationId", p.conversationId);
        w.WriteNumber("lastSeq", p.lastSeq);
    });

    private static void WriteSender(Utf8JsonWriter w, string property, Sender sender)
    {
        w.WriteStartObject(property);
        w.WriteString("role", SenderDto.RoleName(sender.Role));
        w.WriteString("id", sender.Id);
        if (sender.Name is not null)
        {
            w.WriteString("name", sender.Name);
        }

        w.WriteEndObject();
    }

    private static byte[] Write<T>(T value, Action<Utf8JsonWriter, T> body)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(512);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer, Options);
        writer.Reset(buffer);
        writer.WriteStartObject();
        body(writer, value);
        writer.WriteEndObject();
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }
}
