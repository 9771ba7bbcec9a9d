using Google.Protobuf;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Proto = Kefu.Contracts.Protocol;

namespace Kefu.Gateway.WebSockets;

/// <summary>
/// Writes server → client kefu.v1.bin frames: one <see cref="Proto.ServerFrame"/> (contracts/Protos/kefu.proto) per
/// binary WebSocket message. Like <see cref="FrameWriter"/>, an event is encoded once per gateway and the same bytes go
/// to every local connection of this encoding. Each frame is serialized straight into one exactly sized array
/// (the size is computed first), so there is no intermediate buffer to copy from.
/// </summary>
public static class ProtobufFrameWriter
{
    private static readonly Proto.MessageContent TextKind = new() { Text = new Proto.MessageContent.Types.Text() };

    private static readonly byte[] PongFrame = new Proto.ServerFrame { Pong = new Proto.Pong() }.ToByteArray();

    public static byte[] Event(ChatEvent @event) => @event switch
    {
        MessageEvent m => Message(m.Message),
        ConversationEvent c => Conversation(c.Summary),
        TypingEvent t => Write(new Proto.ServerFrame
        {
            Typing = new Proto.Typing
            {
                ConversationId = ProtoValues.Ulid(t.ConversationId),
                Sender = ProtoValues.Sender(t.Sender),
                State = t.On ? Proto.TypingState.On : Proto.TypingState.Off,
            },
        }),
        ReadEvent r => Write(new Proto.ServerFrame
        {
            Read = new Proto.Read
            {
                ConversationId = ProtoValues.Ulid(r.ConversationId),
                Reader = ProtoValues.Sender(r.Reader),
                Seq = r.Seq,
            },
        }),
        QueueEvent q => Write(new Proto.ServerFrame
        {
            Queue = new Proto.Queue { ConversationId = ProtoValues.Ulid(q.ConversationId), Position = q.Position },
        }),
        NoteEvent n => Write(new Proto.ServerFrame
        {
            Note = new Proto.Note
            {
                ConversationId = ProtoValues.Ulid(n.ConversationId),
                NoteId = ProtoValues.Ulid(n.Note.NoteId),
                Author = ProtoValues.Sender(n.Note.Author),
                Text = n.Note.Text,
                Ts = ProtoValues.UnixMicroseconds(n.Note.Ts),
            },
        }),
        MentionEvent n => Write(new Proto.ServerFrame
        {
            Mention = new Proto.Note
            {
                ConversationId = ProtoValues.Ulid(n.ConversationId),
                NoteId = ProtoValues.Ulid(n.Note.NoteId),
                Author = ProtoValues.Sender(n.Note.Author),
                Text = n.Note.Text,
                Ts = ProtoValues.UnixMicroseconds(n.Note.Ts),
            },
        }),
        _ => throw new ArgumentOutOfRangeException(nameof(@event), @event.GetType().Name, "Unknown event."),
    };

    public static byte[] Status(AgentStatus status) => Write(new Proto.ServerFrame
    {
        Status = new Proto.Status
        {
            State = status switch
            {
                AgentStatus.Online => Proto.AgentStatus.Online,
                AgentStatus.Away => Proto.AgentStatus.Away,
                _ => Proto.AgentStatus.Offline,
            },
        },
    });

    public static byte[] Message(ChatMessage m) => Write(new Proto.ServerFrame { Message = ToProto(m) });

    /// <summary>The kefu.v1.Message of a chat message (also the gRPC SendMessage answer).</summary>
    public static Proto.Message ToProto(ChatMessage m)
    {
        var message = new Proto.Message
        {
            ConversationId = ProtoValues.Ulid(m.ConversationId),
            MessageId = ProtoValues.Ulid(m.MessageId),
            Seq = m.Seq,
            Sender = ProtoValues.Sender(m.Sender),
            Text = m.Text,
            Ts = ProtoValues.UnixMicroseconds(m.Ts),
            Content = Content(m.Content),
        };
        if (m.ClientMsgId is not null)
        {
            message.ClientMsgId = m.ClientMsgId;
        }

        return message;
    }

    /// <summary>The protobuf twin of JSON's <c>content</c>: always set, text as an empty <c>text</c> case.</summary>
    public static Proto.MessageContent Content(MessageContent? content) => content switch
    {
        AttachmentContent a => new Proto.MessageContent
        {
            Attachment = new Proto.MessageContent.Types.Attachment
            {
                AttachmentId = ProtoValues.Ulid(a.AttachmentId),
                ContentType = a.ContentType,
                Name = a.Name,
                Size = a.Size,
            },
        },
        _ => TextKind,
    };

    public static byte[] Conversation(ConversationSummary s)
    {
        var conversation = new Proto.Conversation
        {
            ConversationId = ProtoValues.Ulid(s.ConversationId),
            Status = s.Status switch
            {
                ConversationStatus.Queued => Proto.ConversationStatus.Queued,
                ConversationStatus.Open => Proto.ConversationStatus.Open,
                ConversationStatus.Pending => Proto.ConversationStatus.Pending,
                ConversationStatus.Snoozed => Proto.ConversationStatus.Snoozed,
                ConversationStatus.Resolved => Proto.ConversationStatus.Resolved,
                _ => Proto.ConversationStatus.Unspecified,
            },
            VisitorId = ProtoValues.Ulid(s.VisitorId),
            Inbox = s.Inbox,
            LastSeq = s.LastSeq,
            CreatedAt = ProtoValues.UnixMicroseconds(s.CreatedAt),
            Priority = s.Priority,
            LastActivityAt = ProtoValues.UnixMicroseconds(s.ActivityAt),
            Unread = s.Unread,
        };
        if (s.Preview is not null)
        {
            conversation.Preview = s.Preview;
        }

        if (s.AssigneeName is not null)
        {
            conversation.AssigneeName = s.AssigneeName;
        }

        if (s.QueuedAt is { } queuedAt)
        {
            conversation.QueuedAt = ProtoValues.UnixMicroseconds(queuedAt);
        }

        conversation.Tags.Add(s.Tags ?? []);
        if (s.Team is not null)
        {
            conversation.Team = s.Team;
        }

        if (s.QueuePosition is { } position)
        {
            conversation.QueuePosition = position;
        }

        if (s.SnoozedUntil is { } until)
        {
            conversation.SnoozedUntil = ProtoValues.UnixMicroseconds(until);
        }

        if (s.FirstResponseSeconds is { } firstResponse)
        {
            conversation.FirstResponseSeconds = firstResponse;
        }

        if (s.ResolutionSeconds is { } resolution)
        {
            conversation.ResolutionSeconds = resolution;
        }

        if (s.Csat is { } csat)
        {
            conversation.CsatRating = csat.Rating;
            if (csat.Comment is not null)
            {
                conversation.CsatComment = csat.Comment;
            }
        }
        if (s.AssigneeId is not null)
        {
            conversation.AssigneeId = s.AssigneeId;
        }

        if (s.VisitorName is not null)
        {
            conversation.VisitorName = s.VisitorName;
        }

        return Write(new Proto.ServerFrame { Conversation = conversation });
    }

    public static byte[] Ack(SendAck a) => Write(new Proto.ServerFrame
    {
        Ack = new Proto.Ack
        {
            ClientMsgId = a.ClientMsgId,
            ConversationId = ProtoValues.Ulid(a.ConversationId),
            MessageId = ProtoValues.Ulid(a.MessageId),
            Seq = a.Seq,
            Ts = ProtoValues.UnixMicroseconds(a.Ts),
        },
    });

    public static byte[] Joined(string conversationId, long lastSeq) => Write(new Proto.ServerFrame
    {
        Joined = new Proto.Joined { ConversationId = ProtoValues.Ulid(conversationId), LastSeq = lastSeq },
    });

    public static byte[] Synced(string conversationId, long lastSeq, long throughSeq, bool hasMore) => Write(new Proto.ServerFrame
    {
        Synced = new Proto.Synced { ConversationId = ProtoValues.Ulid(conversationId), LastSeq = lastSeq, ThroughSeq = throughSeq, HasMore = hasMore },
    });

    /// <summary>The pong frame; it never changes, so every connection gets the same (never mutated) array.</summary>
    public static byte[] Pong() => PongFrame;

    /// <summary>An error frame; <paramref name="reference"/> (the clientMsgId) is echoed, cut to 64 characters.</summary>
    public static byte[] Error(string code, string message, string? reference = null)
    {
        var error = new Proto.Error { Code = code, Message = message };
        if (reference is not null)
        {
            error.Ref = reference.Length > 64 ? reference[..64] : reference;
        }

        return Write(new Proto.ServerFrame { Error = error });
    }

    private static byte[] Write(Proto.ServerFrame frame) => frame.ToByteArray();
}

/// <summary>Conversions between the domain's values and their kefu.v1 protobuf encodings.</summary>
public static class ProtoValues
{
    private const long UnixEpochTicks = 621_355_968_000_000_000; // DateTime.UnixEpoch.Ticks

    /// <summary>A ULID as its 16 big-endian bytes.</summary>
    public static ByteString Ulid(System.Ulid ulid) => UnsafeByteOperations.UnsafeWrap(ulid.ToByteArray());

    /// <summary>A ULID given as text (conversation and visitor ids) as its 16 bytes.</summary>
    public static ByteString Ulid(string ulid) => Ulid(System.Ulid.Parse(ulid));

    /// <summary>16 bytes back to the ULID's canonical text; false for any other length.</summary>
    public static bool TryReadUlid(ByteString bytes, out string? ulid)
    {
        if (bytes.Length != 16)
        {
            ulid = null;
            return false;
        }

        ulid = new System.Ulid(bytes.Span).ToString();
        return true;
    }

    /// <summary>Microseconds since the Unix epoch, UTC (the sub-microsecond tick is truncated).</summary>
    public static long UnixMicroseconds(DateTimeOffset time) => (time.UtcTicks - UnixEpochTicks) / TimeSpan.TicksPerMicrosecond;

    public static DateTimeOffset FromUnixMicroseconds(long microseconds) =>
        new(UnixEpochTicks + (microseconds * TimeSpan.TicksPerMicrosecond), TimeSpan.Zero);

    public static Proto.Sender Sender(Sender sender)
    {
        var result = new Proto.Sender
        {
            Role = sender.Role switch
            {
                ParticipantRole.Visitor => Proto.SenderRole.Visitor,
                ParticipantRole.Agent => Proto.SenderRole.Agent,
                ParticipantRole.System => Proto.SenderRole.System,
                ParticipantRole.Bot => Proto.SenderRole.Bot,
                _ => Proto.SenderRole.Unspecified,
            },
        };

        // Visitor ids are ULIDs (16 bytes instead of 26 characters); agent ids are usernames.
        if (sender.Role == ParticipantRole.Visitor && System.Ulid.TryParse(sender.Id, out var ulid) && ulid.ToString() == sender.Id)
        {
            result.Ulid = Ulid(ulid);
        }
        else
        {
            result.TextId = sender.Id;
        }

        if (sender.Name is not null)
        {
            result.Name = sender.Name;
        }

        return result;
    }
}
