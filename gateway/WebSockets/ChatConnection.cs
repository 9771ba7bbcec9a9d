using System.Buffers;
using System.Net.WebSockets;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Attachments;
using Kefu.Grains.Conversations;
using Kefu.Grains.Telemetry;

namespace Kefu.Gateway.WebSockets;

/// <summary>
/// One client WebSocket. The read loop reads the client's frames in order and queues their answers in that order (so
/// acks come back in send order); <c>send</c> frames for different conversations are handled concurrently (up to
/// <see cref="KefuWebSocketOptions.MaxSendsInFlight"/>), every other frame after the sends before it;
/// everything sent to the client goes through one bounded queue drained by one writer at a time, which also keeps a
/// cursor per conversation: a message is never written twice or behind a later one on this connection, and live
/// messages that arrive while a <c>sync</c> is running wait until the sync has caught up.
/// An idle connection holds as little as possible (a gateway holds up to 100k of them): no receive buffer while
/// waiting, and no queue, writer task or cursors until something is to be sent (see ChatConnection.Writer.cs).
/// </summary>
public sealed partial class ChatConnection
{
    private readonly IGrainFactory _grains;
    private readonly KefuWebSocketOptions _options;
    private readonly ILogger _logger;
    private readonly string _gatewayId;
    private readonly TokenBucket _bucket;
    private readonly CancellationTokenSource _stop = new();
    private readonly FrameEncoder _frames;

    /// <summary>Where a send's attachment reference is looked up (null: no attachments, every reference is not_found).</summary>
    private readonly IAttachmentStore? _attachments;
    private int _rejectedInARow;
    private WebSocket? _socket;

    /// <summary>Sends started and not answered yet, oldest first (only the read loop touches it): answers go out in this order.</summary>
    private Queue<Task<byte[]?>>? _sendsInFlight;

    /// <summary>The latest send started per conversation: the next send of it starts after that one.</summary>
    private Dictionary<string, Task<byte[]?>>? _lastSendOf;

    /// <summary>Skips the before_message worker for tenants without such plugins; null: always ask it.</summary>
    private readonly BeforeMessageGate? _hooks;

    /// <summary>A visitor's current conversation once known (see <see cref="LearnVisitorConversation"/>).</summary>
    private string? _visitorConversation;

    public ChatConnection(
        Caller caller, string gatewayId, IGrainFactory grains, KefuWebSocketOptions options, ILogger logger, FrameEncoding encoding = FrameEncoding.Json,
        IAttachmentStore? attachments = null, BeforeMessageGate? hooks = null)
    {
        _attachments = attachments;
        _hooks = hooks;
        Caller = caller;
        Encoding = encoding;
        _frames = FrameEncoder.For(encoding);
        ParticipantKey = caller.ParticipantKey;
        Id = string.Concat(gatewayId, ":", Ulid.NewUlid().ToString());
        _gatewayId = gatewayId;
        _grains = grains;
        _options = options;
        _logger = logger;
        _bucket = new TokenBucket(options.FramesPerSecond, options.FrameBurst);
    }

    public string Id { get; }

    public Caller Caller { get; }

    public string ParticipantKey { get; }

    /// <summary>The negotiated subprotocol's encoding, both ways.</summary>
    public FrameEncoding Encoding { get; }

    /// <summary>The connection is ending: closed, gone, or dropped for falling behind.</summary>
    public bool IsStopping => _stop.IsCancellationRequested;

    private IConnectedParticipant Participant => Caller.Role == ParticipantRole.Visitor
        ? _grains.GetGrain<IVisitorGrain>(Tenancy.Key(Caller.Tenant, Caller.Id))
        : _grains.GetGrain<IAgentGrain>(Tenancy.Key(Caller.Tenant, Caller.Id));

    /// <summary>
    /// Called by the gateway observer for pushed events, with <paramref name="frame"/> already encoded in this
    /// connection's <see cref="Encoding"/>; never blocks. A client too far behind is dropped.
    /// </summary>
    public void Deliver(ChatEvent @event, byte[] frame)
    {
        if (Caller.Role == ParticipantRole.Visitor && @event is MessageEvent or ConversationEvent)
        {
            LearnVisitorConversation(@event.ConversationId);
        }

        Outbound item = @event is MessageEvent m ? new Outbound.Live(m.ConversationId, m.Message.Seq, frame) : new Outbound.Frame(frame);
        if (item is Outbound.Live)
        {
            KefuMetrics.Delivered(Caller);
        }

        if (TryEnqueue(item) == Enqueued.Full && !_stop.IsCancellationRequested)
        {
            LogSlowConsumer(_logger, Id, _options.OutboundQueue);
            _stop.Cancel();
            _socket?.Abort();
        }
    }

    /// <summary>
    /// The participant's tokens were revoked (logout, password or role change, deactivation): close with 1008 so the
    /// client reconnects, is refused with 401 and signs in again. Never blocks.
    /// </summary>
    public void EndSession() => CloseFromServer(WebSocketCloseStatus.PolicyViolation, $"{ErrorCodes.Unauthorized}: session ended");

    /// <summary>
    /// Closes with a close frame after what is already queued (the client answers it and the read loop ends); a
    /// connection that cannot take the frame is aborted. Never blocks.
    /// </summary>
    public void CloseFromServer(WebSocketCloseStatus status, string reason)
    {
        if (TryEnqueue(new Outbound.Close(status, reason)) == Enqueued.Yes)
        {
            _ = CompleteOutbound();
            return;
        }

        _stop.Cancel();
        _socket?.Abort();
    }

    /// <summary>
    /// Registers the connection here and with its participant grain before the upgrade completes: once the client
    /// has its WebSocket, every event for it is delivered live (anything older comes from <c>sync</c>).
    /// </summary>
    /// <returns>false, registering nothing, when the participant already has <paramref name="maxPerParticipant"/> connections here.</returns>
    public async Task<bool> OpenAsync(ConnectionRegistry registry, int maxPerParticipant = int.MaxValue)
    {
        if (!registry.TryAdd(this, maxPerParticipant))
        {
            return false;
        }

        try
        {
            await Participant.Connect(_gatewayId, Id);
        }
        catch
        {
            registry.Remove(this);
            throw;
        }

        return true;
    }

    public async Task RunAsync(WebSocket socket, ConnectionRegistry registry, CancellationToken aborted)
    {
        // One token for the whole connection: the request's abort cancels _stop (a registration, not a linked source).
        using var abortRegistration = aborted.UnsafeRegister(static s => ((ChatConnection)s!).Stop(), this);
        var token = _stop.Token;
        AttachSocket(socket);
        try
        {
            await ReadLoopAsync(socket, token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            // The client went away or was dropped; nothing to answer.
        }
        finally
        {
            try
            {
                await CompleteOutbound().WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
                if (socket.State == WebSocketState.CloseSent)
                {
                    await DrainUntilCloseAsync(socket);
                }
            }
            catch (Exception)
            {
                // A write loop stuck on a dead socket: the request ends and Kestrel aborts it.
            }

            await CloseAsync(registry);
        }
    }

    /// <summary>Unregisters the connection here and from its participant grain.</summary>
    public async Task CloseAsync(ConnectionRegistry registry)
    {
        Stop();
        registry.Remove(this);
        try
        {
            await Participant.Disconnect(_gatewayId, Id);
        }
        catch (Exception ex)
        {
            // Presence heals by heartbeat expiry.
            LogDisconnectFailed(_logger, ex, Id);
        }
    }

    private async Task ReadLoopAsync(WebSocket socket, CancellationToken token)
    {
        var limit = _options.MaxFrameBytes;
        while (!token.IsCancellationRequested)
        {
            // Wait for the next frame without holding a buffer: an idle connection keeps no receive memory. Sends still in
            // flight are answered meanwhile, in order, as they finish.
            var first = await ReceiveWhileAnsweringAsync(socket, token);
            if (first.MessageType == WebSocketMessageType.Close)
            {
                await CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", token);
                return;
            }

            var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(4096, limit + 1));
            try
            {
                var count = 0;
                var result = first;
                while (!result.EndOfMessage)
                {
                    if (count == buffer.Length)
                    {
                        var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, limit + 1));
                        buffer.AsSpan(0, count).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }

                    result = await socket.ReceiveAsync(buffer.AsMemory(count, Math.Min(buffer.Length, limit + 1) - count), token);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        await CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", token);
                        return;
                    }

                    count += result.Count;
                    if (count > limit)
                    {
                        await CloseAsync(WebSocketCloseStatus.MessageTooBig, $"{ErrorCodes.FrameTooLarge}: frames are limited to {limit} bytes", token);
                        return;
                    }
                }

                if (result.MessageType != _frames.MessageType)
                {
                    await CloseAsync(WebSocketCloseStatus.InvalidMessageType, Encoding == FrameEncoding.Binary
                        ? "text frames need the kefu.v1.json subprotocol"
                        : "binary frames need the kefu.v1.bin subprotocol", token);
                    return;
                }

                if (!await HandleFrameAsync(buffer.AsMemory(0, count), token))
                {
                    return;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <returns>false when the connection must close.</returns>
    private async Task<bool> HandleFrameAsync(ReadOnlyMemory<byte> data, CancellationToken token)
    {
        // The bucket first: a flood costs a token check per frame, not a parse. Only the clientMsgId is picked out of
        // a refused frame, so the client knows which message to retry.
        if (!_bucket.TryTake())
        {
            await AnswerSendsInFlightAsync(0, token);
            TrySend(_frames.Error(ErrorCodes.RateLimited, "Too many frames; slow down.", ClientFrame.PeekClientMsgId(data.Span, Encoding)));
            if (++_rejectedInARow >= _options.MaxRejectedInARow)
            {
                await CloseAsync(WebSocketCloseStatus.PolicyViolation, $"{ErrorCodes.RateLimited}: flooding", token);
                return false;
            }

            return true;
        }

        _rejectedInARow = 0;
        if (!TryParse(data.Span, out var frame, out var invalid))
        {
            await AnswerSendsInFlightAsync(0, token);
            TrySend(_frames.Error(invalid!.Code, invalid.Message, frame.ClientMsgId));
            return true;
        }

        if (frame.Type == "send" && _options.MaxSendsInFlight > 1)
        {
            StartSend(frame);
            await AnswerSendsInFlightAsync(_options.MaxSendsInFlight - 1, token);
            return true;
        }

        // Any other frame acts after the sends before it (a join or sync sees their messages) and answers after them.
        await AnswerSendsInFlightAsync(0, token);
        try
        {
            var reply = frame.Type switch
            {
                "ping" => _frames.Pong(),
                "send" => await SendAsync(frame),
                "join" => await JoinAsync(frame),
                "sync" => await SyncAsync(frame, token),
                "typing" => await TypingAsync(frame),
                "read" => await ReadAsync(frame),
                "status" => await StatusAsync(frame),
                _ => _frames.Error(ErrorCodes.UnknownType, $"Unknown frame type '{frame.Type}'.", frame.ClientMsgId),
            };
            if (reply is not null)
            {
                await EnqueueAsync(new Outbound.Frame(reply), token);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A grain call failed or timed out: the client may retry (sends are idempotent by clientMsgId).
            LogFrameFailed(_logger, ex, Id, frame.Type);
            TrySend(_frames.Error(ErrorCodes.Unavailable, "The request could not be completed; retry it.", frame.ClientMsgId));
        }

        return true;
    }

    /// <summary>
    /// Starts a send without waiting for it: after the previous send of the same conversation (a visitor's sends all
    /// count as one conversation), so one conversation's messages are stored in the order they were sent.
    /// </summary>
    private void StartSend(ClientFrame frame)
    {
        var key = Caller.Role == ParticipantRole.Visitor ? string.Empty : frame.ConversationId ?? string.Empty;
        _lastSendOf ??= new Dictionary<string, Task<byte[]?>>(StringComparer.Ordinal);
        var previous = _lastSendOf.GetValueOrDefault(key);
        var send = previous is null || previous.IsCompleted ? SendAnsweredAsync(frame) : SendAfterAsync(previous, frame);
        _lastSendOf[key] = send;
        (_sendsInFlight ??= new Queue<Task<byte[]?>>()).Enqueue(send);
    }

    private async Task<byte[]?> SendAfterAsync(Task previous, ClientFrame frame)
    {
        await previous; // never faults: SendAnsweredAsync turns failures into error frames
        return await SendAnsweredAsync(frame);
    }

    /// <summary>A send's answer frame: its ack, or the error a client can act on (null once the connection is ending).</summary>
    private async Task<byte[]?> SendAnsweredAsync(ClientFrame frame)
    {
        using var send = KefuTraces.StartSend(Caller, frame.ConversationId, frame.ClientMsgId); // the send's own trace, and kefu.ack.duration
        try
        {
            return send.Answered(await SendAsync(frame));
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        catch (Exception ex)
        {
            // A grain call failed or timed out: the client may retry (sends are idempotent by clientMsgId).
            LogFrameFailed(_logger, ex, Id, frame.Type);
            return _frames.Error(ErrorCodes.Unavailable, "The request could not be completed; retry it.", frame.ClientMsgId);
        }
    }

    /// <summary>Queues the answers of finished sends in order, waiting for the oldest until at most <paramref name="keep"/> remain.</summary>
    private async ValueTask AnswerSendsInFlightAsync(int keep, CancellationToken token)
    {
        while (_sendsInFlight is { Count: > 0 } sends && (sends.Count > keep || sends.Peek().IsCompleted))
        {
            var answer = await sends.Dequeue();
            if (answer is not null)
            {
                await EnqueueAsync(new Outbound.Frame(answer), token);
            }
        }

        if (_sendsInFlight is { Count: 0 } && _lastSendOf is { Count: > 0 })
        {
            _lastSendOf.Clear();
        }
    }

    /// <summary>Waits for the next frame; while sends are in flight, queues each one's answer as soon as it and those before it are done.</summary>
    private async ValueTask<ValueWebSocketReceiveResult> ReceiveWhileAnsweringAsync(WebSocket socket, CancellationToken token)
    {
        var receive = socket.ReceiveAsync(Memory<byte>.Empty, token);
        if (receive.IsCompleted || _sendsInFlight is not { Count: > 0 })
        {
            return await receive;
        }

        var next = receive.AsTask();
        while (_sendsInFlight is { Count: > 0 } sends && !next.IsCompleted)
        {
            await Task.WhenAny(next, sends.Peek());
            await AnswerSendsInFlightAsync(int.MaxValue, token);
        }

        return await next;
    }

    /// <summary>
    /// Parses a frame; whatever the bytes, a failure is an answer for the client (<c>bad_frame</c>), never an exception
    /// that ends the connection. The parsers report every failure they know of; anything else they throw is logged as
    /// one line (no stack trace: a client can send such frames by the thousand).
    /// </summary>
    private bool TryParse(ReadOnlySpan<byte> data, out ClientFrame frame, out KefuError? invalid)
    {
        try
        {
            return Encoding == FrameEncoding.Binary
                ? ClientFrame.TryParseProtobuf(data, out frame, out invalid)
                : ClientFrame.TryParse(data, out frame, out invalid);
        }
        catch (Exception ex)
        {
            LogUnparsableFrame(_logger, Id, ex.GetType().Name, ex.Message);
            frame = new ClientFrame();
            invalid = new KefuError(ErrorCodes.BadFrame, "The frame could not be read.");
            return false;
        }
    }

    private async Task<byte[]?> SendAsync(ClientFrame frame)
    {
        if (frame.ClientMsgId is not { Length: > 0 } reference)
        {
            return _frames.Error(ErrorCodes.MissingField, "send needs a 'clientMsgId'.", frame.ClientMsgId);
        }

        if (reference.Length > 64)
        {
            return _frames.Error(ErrorCodes.InvalidField, "'clientMsgId' must be 1 to 64 characters.", reference);
        }

        if (ContentReference(frame, reference, out var attachmentId) is { } invalidContent)
        {
            return invalidContent;
        }

        if (attachmentId is null)
        {
            if (frame.Text is null)
            {
                return _frames.Error(ErrorCodes.MissingField, "send needs a 'text'.", reference);
            }

            if (frame.Text.Length > _options.MaxTextLength)
            {
                return _frames.Error(ErrorCodes.TextTooLong, $"'text' is longer than {_options.MaxTextLength} characters.", reference);
            }

            if (string.IsNullOrWhiteSpace(frame.Text))
            {
                return _frames.Error(ErrorCodes.InvalidField, "'text' must not be empty.", reference);
            }

            // Without content, the legacy text form of an attachment (clients from before typed content) is an attachment
            // reference too; a send that says it is text is text.
            if (frame.ContentKind is null && MessageContentRules.TryParseLegacy(frame.Text, out var legacy))
            {
                attachmentId = legacy.AttachmentId;
            }
        }

        var (conversationId, error) = await ResolveConversationAsync(frame, startForVisitor: true);
        if (conversationId is null)
        {
            return error;
        }

        var text = frame.Text!;
        MessageContent? content = frame.ContentKind == ContentKinds.Text ? TextContent.Instance : null;
        if (attachmentId is not null)
        {
            if (await FindAttachmentAsync(attachmentId, conversationId) is not { } attachment)
            {
                return _frames.Error(ErrorCodes.NotFound, "There is no such attachment in this conversation; upload the file first.", reference);
            }

            (content, text) = (attachment, attachment.Name);
        }

        if (Caller.Role == ParticipantRole.Visitor && attachmentId is null && (_hooks is null || await _hooks.MustRunAsync(Caller.Tenant)))
        {
            // The tenant's before_message plugins, outside the conversation's turn. Visitor sends are chained (StartSend),
            // so this await keeps the visitor's messages in order.
            var hooked = await _grains.GetGrain<IBeforeMessageHookGrain>(Caller.Tenant).Run(new BeforeMessageInput(conversationId, null, text, Caller.Id));
            if (hooked.Refused)
            {
                return _frames.Error(ErrorCodes.Refused, hooked.Reason!, reference);
            }

            text = hooked.Text;
        }

        var outcome = await Conversation(conversationId).Send(new SendMessage(Caller, reference, text, Id, content));
        return outcome.Error is { } refused
            ? _frames.Error(refused.Code, refused.Message, reference)
            : _frames.Ack(outcome.Value!);
    }

    /// <summary>
    /// Checks a send's <c>content</c>: none or <c>text</c> (a text message), or <c>attachment</c> with a valid id
    /// (<paramref name="attachmentId"/>); returns the error frame otherwise.
    /// </summary>
    private byte[]? ContentReference(ClientFrame frame, string reference, out string? attachmentId)
    {
        attachmentId = null;
        switch (frame.ContentKind)
        {
            case null or ContentKinds.Text:
                return null;
            case ContentKinds.Attachment when frame.AttachmentId is null:
                return _frames.Error(ErrorCodes.MissingField, "content of kind 'attachment' needs an 'attachmentId'.", reference);
            case ContentKinds.Attachment when !Ulid.TryParse(frame.AttachmentId, out _):
                return _frames.Error(ErrorCodes.InvalidField, "'content.attachmentId' is not a valid id.", reference);
            case ContentKinds.Attachment:
                attachmentId = frame.AttachmentId;
                return null;
            case "":
                return _frames.Error(ErrorCodes.MissingField, "'content' needs a 'kind'.", reference);
            default:
                return _frames.Error(ErrorCodes.InvalidField, "'content.kind' must be 'text' or 'attachment'.", reference);
        }
    }

    /// <summary>
    /// The upload <paramref name="attachmentId"/> as message content, with its stored type, name and size — only if it
    /// belongs to <paramref name="conversationId"/> of the caller's tenant: a message never points at another
    /// conversation's file (whose readers could not open it anyway).
    /// </summary>
    private async Task<AttachmentContent?> FindAttachmentAsync(string attachmentId, string conversationId)
    {
        if (_attachments is null)
        {
            return null;
        }

        var canonical = Ulid.Parse(attachmentId).ToString();
        var info = await _attachments.GetInfoAsync(canonical, _stop.Token);
        return info is not null && info.Tenant == Caller.Tenant && info.ConversationId == conversationId
            ? new AttachmentContent(info.AttachmentId, info.ContentType, info.Name, info.Size)
            : null;
    }

    private async Task<byte[]?> JoinAsync(ClientFrame frame)
    {
        if (Caller.Role != ParticipantRole.Agent)
        {
            return _frames.Error(ErrorCodes.NotAllowed, "Visitors are in their own conversation already; join is for agents.", frame.ClientMsgId);
        }

        var (conversationId, error) = await ResolveConversationAsync(frame, startForVisitor: false);
        if (conversationId is null)
        {
            return error;
        }

        var outcome = await _grains.GetGrain<IAgentGrain>(Tenancy.Key(Caller.Tenant, Caller.Id)).Join(conversationId);
        return outcome.Error is { } refused
            ? _frames.Error(refused.Code, refused.Message, frame.ClientMsgId)
            : _frames.Joined(conversationId, outcome.Value!.LastSeq);
    }

    private async Task<byte[]?> StatusAsync(ClientFrame frame)
    {
        if (Caller.Role != ParticipantRole.Agent)
        {
            return _frames.Error(ErrorCodes.NotAllowed, "Only agents have a status.", frame.ClientMsgId);
        }

        if (frame.State is null)
        {
            return _frames.Error(ErrorCodes.MissingField, "status needs a 'state'.", frame.ClientMsgId);
        }

        if (!AgentStatusNames.TryParseChosen(frame.State, out var status))
        {
            return _frames.Error(ErrorCodes.InvalidField, "'state' must be 'online' or 'away'.", frame.ClientMsgId);
        }

        var outcome = await _grains.GetGrain<IAgentGrain>(Tenancy.Key(Caller.Tenant, Caller.Id)).SetStatus(status);
        return outcome.Error is { } refused
            ? _frames.Error(refused.Code, refused.Message, frame.ClientMsgId)
            : _frames.Status(outcome.Value);
    }

    private async Task<byte[]?> SyncAsync(ClientFrame frame, CancellationToken token)
    {
        if (frame.AfterSeq is < 0)
        {
            return _frames.Error(ErrorCodes.InvalidField, "'afterSeq' must be >= 0.", frame.ClientMsgId);
        }

        if (frame.Limit is < 1)
        {
            return _frames.Error(ErrorCodes.InvalidField, "'limit' must be >= 1.", frame.ClientMsgId);
        }

        var (conversationId, error) = await ResolveConversationAsync(frame, startForVisitor: false);
        if (conversationId is null)
        {
            return error;
        }

        var afterSeq = frame.AfterSeq ?? 0;
        var pageSize = Math.Max(1, _options.SyncPageSize);
        var budget = SyncBudget;
        await EnqueueAsync(new Outbound.SyncStart(conversationId, afterSeq), token);
        try
        {
            // Without a limit the answer is every message (the core contract), but read and queued one page at a time:
            // the next page is read only once the queue has drained below the sync budget, so however long the history
            // and however slow the client, a connection holds about two pages (one queued, one being written).
            // With a limit it is one page, and synced says whether more remain.
            while (true)
            {
                var take = frame.Limit is { } limit ? (int)Math.Min(limit, pageSize) : pageSize;
                var page = await Conversation(conversationId).GetMessages(Caller, afterSeq, take);
                if (page.Error is { } refused)
                {
                    await EnqueueAsync(new Outbound.SyncEnd(conversationId, null, _frames.Error(refused.Code, refused.Message, frame.ClientMsgId)), token);
                    return null;
                }

                var lastSeq = page.Value!.LastSeq;
                var (encoded, size) = EncodePage(page.Value.Messages, budget);
                if (encoded.Length > 0)
                {
                    await EnqueueAsync(new Outbound.SyncPage(conversationId, encoded, size), token, budget);
                }

                var through = encoded.Length > 0 ? encoded[^1].Seq : afterSeq;
                var more = encoded.Length > 0 && through < lastSeq;
                if (more && frame.Limit is not null)
                {
                    await EnqueueAsync(new Outbound.SyncEnd(conversationId, lastSeq, null, through, HasMore: true), token);
                    return null;
                }

                if (!more)
                {
                    await EnqueueAsync(new Outbound.SyncEnd(conversationId, lastSeq, null), token);
                    return null;
                }

                afterSeq = through;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogFrameFailed(_logger, ex, Id, frame.Type);
            await EnqueueAsync(new Outbound.SyncEnd(conversationId, null, _frames.Error(ErrorCodes.Unavailable, "sync failed; retry it.", frame.ClientMsgId)), token);
            return null;
        }
    }

    /// <summary>Bytes of sync pages a connection may have queued: <c>SyncByteBudget</c>, at most half of <c>OutboundBytes</c>.</summary>
    private int SyncBudget => Math.Max(1, Math.Min(_options.SyncByteBudget, _options.OutboundBytes / 2));

    /// <summary>
    /// The page's messages as frames, in seq order, cut where they would take more than <paramref name="budget"/> bytes
    /// (at least one message, so a sync always makes progress).
    /// </summary>
    private ((long Seq, byte[] Frame)[] Messages, int Size) EncodePage(ChatMessage[] messages, int budget)
    {
        var encoded = new List<(long, byte[])>(messages.Length);
        var size = 0;
        foreach (var message in messages)
        {
            var bytes = _frames.Message(message);
            if (encoded.Count > 0 && size + bytes.Length > budget)
            {
                break;
            }

            encoded.Add((message.Seq, bytes));
            size += bytes.Length;
        }

        return ([.. encoded], size);
    }

    private async Task<byte[]?> TypingAsync(ClientFrame frame)
    {
        if (frame.State is not ("on" or "off"))
        {
            return _frames.Error(frame.State is null ? ErrorCodes.MissingField : ErrorCodes.InvalidField, "'state' must be 'on' or 'off'.", frame.ClientMsgId);
        }

        var (conversationId, error) = await ResolveConversationAsync(frame, startForVisitor: false);
        if (conversationId is null)
        {
            return error;
        }

        var outcome = await Conversation(conversationId).Typing(Caller, frame.State == "on");
        return outcome.Error is { } refused ? _frames.Error(refused.Code, refused.Message, frame.ClientMsgId) : null;
    }

    private async Task<byte[]?> ReadAsync(ClientFrame frame)
    {
        if (frame.Seq is not { } seq)
        {
            return _frames.Error(ErrorCodes.MissingField, "read needs a 'seq'.", frame.ClientMsgId);
        }

        if (seq < 0)
        {
            return _frames.Error(ErrorCodes.InvalidField, "'seq' must be >= 0.", frame.ClientMsgId);
        }

        var (conversationId, error) = await ResolveConversationAsync(frame, startForVisitor: false);
        if (conversationId is null)
        {
            return error;
        }

        var outcome = await Conversation(conversationId).MarkRead(Caller, seq);
        return outcome.Error is { } refused ? _frames.Error(refused.Code, refused.Message, frame.ClientMsgId) : null;
    }

    /// <summary>The frame's conversation; visitors may leave it out and mean their current one.</summary>
    private async Task<(string? ConversationId, byte[]? Error)> ResolveConversationAsync(ClientFrame frame, bool startForVisitor)
    {
        if (frame.ConversationId is { } given)
        {
            return Ulid.TryParse(given, out _)
                ? (given, null)
                : (null, _frames.Error(ErrorCodes.InvalidField, "'conversationId' is not a valid id.", frame.ClientMsgId));
        }

        if (Caller.Role != ParticipantRole.Visitor)
        {
            return (null, _frames.Error(ErrorCodes.MissingField, $"{frame.Type} needs a 'conversationId'.", frame.ClientMsgId));
        }

        // Known already (learned from an earlier frame or a push): no round trip to the visitor grain per frame.
        if (Volatile.Read(ref _visitorConversation) is { } known)
        {
            return (known, null);
        }

        var visitor = _grains.GetGrain<IVisitorGrain>(Tenancy.Key(Caller.Tenant, Caller.Id));
        var current = startForVisitor ? await visitor.GetOrStartConversation() : await visitor.GetCurrentConversation();
        if (current is null)
        {
            return (null, _frames.Error(ErrorCodes.NotFound, "You have no conversation yet; send a message to start one.", frame.ClientMsgId));
        }

        LearnVisitorConversation(current);
        return (Volatile.Read(ref _visitorConversation), null);
    }

    /// <summary>
    /// A visitor connection remembers its visitor's current conversation: the newest one it was told of, by the
    /// visitor grain or by an event pushed to it (a visitor only ever gets events of its own conversations, and one
    /// started elsewhere, by another tab or the widget API, announces itself to every connection of the visitor).
    /// Conversation ids are ULIDs, which sort by creation time, so an older conversation's late event never wins.
    /// </summary>
    private void LearnVisitorConversation(string conversationId)
    {
        var known = Volatile.Read(ref _visitorConversation);
        while (known is null || string.CompareOrdinal(conversationId, known) > 0)
        {
            var seen = Interlocked.CompareExchange(ref _visitorConversation, conversationId, known);
            if (ReferenceEquals(seen, known))
            {
                return;
            }

            known = seen;
        }
    }

    private IConversationGrain Conversation(string conversationId) =>
        _grains.GetGrain<IConversationGrain>(Tenancy.Key(Caller.Tenant, conversationId));

    private void TrySend(byte[] frame) => TryEnqueue(new Outbound.Frame(frame));

    /// <summary>
    /// We closed (too large, wrong frame kind, flooding): read and discard until the client's close arrives, briefly.
    /// Closing the TCP connection with unread client data in the kernel would send a reset, and the client could lose
    /// our close frame and its reason.
    /// </summary>
    private static async Task DrainUntilCloseAsync(WebSocket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        var scratch = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            while (socket.State == WebSocketState.CloseSent)
            {
                var result = await socket.ReceiveAsync(scratch.AsMemory(), timeout.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            // The client did not answer in time or went away; the connection ends either way.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private async Task CloseAsync(WebSocketCloseStatus status, string reason, CancellationToken token)
    {
        await EnqueueAsync(new Outbound.Close(status, reason), token);
        _ = CompleteOutbound();
    }
}
