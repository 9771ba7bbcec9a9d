using Google.Protobuf;
using Kefu.Contracts.Protocol;

namespace Kefu.Contracts.Events;

/// <summary>The protobuf twin of the JSON envelope (<see cref="EventJson.WriteEnvelope"/>), field for field.</summary>
public static class EventProto
{
    public static EventEnvelope ToProto(StoredEvent e)
    {
        var envelope = new EventEnvelope
        {
            Id = ByteString.CopyFrom(e.Id.ToByteArray()),
            Type = e.Type,
            Tenant = e.Tenant,
            Time = (e.Time.UtcTicks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMicrosecond,
            Cursor = EventCursor.Format(e.Cursor),
            Causation = new EventCausation { Kind = e.Causation.Kind, Id = e.Causation.Id },
            DataJson = e.DataJson,
        };
        if (e.Causation.Name is { } name)
        {
            envelope.Causation.Name = name;
        }

        if (e.Causation.Depth > 0)
        {
            envelope.Causation.Depth = (uint)e.Causation.Depth;
        }

        if (e.Causation.TriggerEventId is { } trigger)
        {
            envelope.Causation.TriggerEventId = trigger;
        }

        // Conversation ids are ULIDs; one that is not (none exist today) cannot be carried as 16 bytes.
        if (e.ConversationId is { } conversation && Ulid.TryParse(conversation, out var ulid))
        {
            envelope.ConversationId = ByteString.CopyFrom(ulid.ToByteArray());
            envelope.Seq = e.Seq;
        }

        return envelope;
    }
}
