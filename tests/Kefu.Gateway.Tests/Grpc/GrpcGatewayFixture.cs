using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Kefu.Contracts.Integration;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.Grpc;

/// <summary>
/// A gateway with gRPC on a port of its own (Kefu:Grpc:Url), a one-second heartbeat and a fast tail, for the gRPC tests
/// (docs/integration.md §16). gRPC clients talk h2c to <see cref="GrpcUri"/>.
/// </summary>
public sealed class GrpcGatewayFixture : GatewayFixture
{
    public static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(1);

    private readonly int _grpcPort = FreePort();

    public Uri GrpcUri => new($"http://127.0.0.1:{_grpcPort}");

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Kefu:Grpc:Url"] = GrpcUri.ToString().TrimEnd('/'),
        ["Kefu:Grpc:HeartbeatInterval"] = Heartbeat.ToString(),
        ["Kefu:Grpc:PollInterval"] = "00:00:00.050",
    };

    public GrpcChannel Channel(Uri? address = null) => GrpcChannel.ForAddress(address ?? GrpcUri);

    /// <summary>A client whose calls carry <c>authorization: Bearer {token}</c> (a key or a JWT); none without a token.</summary>
    public static Integration.IntegrationClient Client(GrpcChannel channel, string? token) =>
        token is null
            ? new Integration.IntegrationClient(channel)
            : new Integration.IntegrationClient(channel.CreateCallInvoker().Intercept(metadata =>
            {
                metadata.Add("authorization", "Bearer " + token);
                return metadata;
            }));

    /// <summary>Creates a service API key with these scopes (through the admin API) and returns it.</summary>
    public async Task<string> CreateKeyAsync(params string[] scopes)
    {
        using var admin = Http(await LoginAsync());
        var response = await admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "gRPC test " + string.Join('+', scopes), scopes });
        return (await Desk.Ok(response)).GetProperty("key").GetString()!;
    }

    /// <summary>A visitor with a conversation of one message: the chat client (dispose it) and the conversation id.</summary>
    public async Task<(ChatClient Visitor, string ConversationId)> StartConversationAsync(string text = "Where is my order?")
    {
        var (_, token) = await CreateVisitorAsync("Ann");
        var visitor = await ConnectAsync(token);
        var first = await visitor.SendMessageAsync(text);
        return (visitor, first.Str("conversationId")!);
    }
}

[CollectionDefinition(Name)]
public sealed class GrpcGatewayCollection : ICollectionFixture<GrpcGatewayFixture>
{
    public const string Name = "grpc-gateway";
}

/// <summary>Reads a Subscribe stream with a deadline per wait, so a test fails instead of hanging.</summary>
internal sealed class StreamReader(AsyncServerStreamingCall<SubscribeResponse> call) : IDisposable
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    /// <summary>Every message read so far, in order.</summary>
    public List<SubscribeResponse> Seen { get; } = [];

    public async Task<SubscribeResponse> NextAsync()
    {
        using var timeout = new CancellationTokenSource(Wait);
        if (!await call.ResponseStream.MoveNext(timeout.Token))
        {
            throw new InvalidOperationException("The stream ended.");
        }

        Seen.Add(call.ResponseStream.Current);
        return call.ResponseStream.Current;
    }

    /// <summary>Reads until a message matches; returns the messages read meanwhile, that one last.</summary>
    public async Task<List<SubscribeResponse>> UntilAsync(Func<SubscribeResponse, bool> match)
    {
        var read = new List<SubscribeResponse>();
        var deadline = DateTime.UtcNow + Wait;
        while (DateTime.UtcNow < deadline)
        {
            var next = await NextAsync();
            read.Add(next);
            if (match(next))
            {
                return read;
            }
        }

        throw new TimeoutException("No matching message within " + Wait);
    }

    public void Dispose() => call.Dispose();

    public static string DataText(SubscribeResponse m) =>
        JsonDocument.Parse(m.Event.DataJson).RootElement.GetProperty("message").GetProperty("text").GetString()!;
}
