using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;

namespace Kefu.Gateway.WebSockets;

/// <summary>
/// The process's one observer: encodes each pushed event at most once per encoding that a recipient connection
/// actually speaks (lazily), and queues the same bytes on every local connection of that encoding.
/// </summary>
public sealed class GatewayObserver(ConnectionRegistry registry) : IGatewayObserver
{
    public Task Deliver(PushEnvelope[] batch)
    {
        foreach (var envelope in batch)
        {
            if (envelope.Event is SessionEndedEvent)
            {
                foreach (var recipient in envelope.Recipients)
                {
                    foreach (var connection in registry.Get(recipient))
                    {
                        connection.EndSession();
                    }
                }

                continue;
            }

            byte[]? json = null;
            byte[]? binary = null;
            foreach (var recipient in envelope.Recipients)
            {
                foreach (var connection in registry.Get(recipient))
                {
                    if (connection.Id == envelope.ExcludeConnectionId)
                    {
                        continue;
                    }

                    var frame = connection.Encoding == FrameEncoding.Binary
                        ? binary ??= ProtobufFrameWriter.Event(envelope.Event)
                        : json ??= FrameWriter.Event(envelope.Event);
                    connection.Deliver(envelope.Event, frame);
                }
            }
        }

        return Task.CompletedTask;
    }
}
