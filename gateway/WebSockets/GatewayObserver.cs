using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;

namespace Kefu.Gateway.WebSockets;

/// <summary>The process's one observer: encodes each pushed event once and queues it on the recipients' local connections.</summary>
public sealed class GatewayObserver(ConnectionRegistry registry) : IGatewayObserver
{
    public Task Deliver(PushEnvelope[] batch)
    {
        foreach (var envelope in batch)
        {
            byte[]? frame = null;
            foreach (var recipient in envelope.Recipients)
            {
                foreach (var connection in registry.Get(recipient))
                {
                    if (connection.Id == envelope.ExcludeConnectionId)
                    {
                        continue;
                    }

                    frame ??= FrameWriter.Event(envelope.Event);
                    connection.Deliver(envelope.Event, frame);
                }
            }
        }

        return Task.CompletedTask;
    }
}
