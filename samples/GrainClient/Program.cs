using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Samples.GrainClient;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// A trusted internal service posting a bot message into a conversation and reading the conversation back, by calling
// the conversation grain directly (docs/integration.md §17). Usage:
//   dotnet run --project samples/GrainClient -- --conversation <ULID> --text "Your order has shipped" \
//       --ConnectionStrings:kefu="Server=…;Database=kefu;…" [--Kefu:Silo:ClusterId=kefu --Kefu:Silo:ServiceId=kefu]
//       [--tenant default] [--bot "Order bot"]
var settings = SampleSettings.From(new ConfigurationBuilder().AddEnvironmentVariables().AddCommandLine(args).Build());
if (settings.Problem is { } problem)
{
    Console.Error.WriteLine(problem);
    return 2;
}

using var host = Host.CreateDefaultBuilder()
    .ConfigureLogging(logging => logging.ClearProviders().AddConsole().AddFilter(level => level >= LogLevel.Warning))
    .UseOrleansClient(client => client
        .Configure<Orleans.Configuration.ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (settings.ClusterId, settings.ServiceId))
        .UseAdoNetClustering(o => (o.Invariant, o.ConnectionString) = ("MySql.Data.MySqlConnector", settings.ConnectionString)))
    .Build();
await host.StartAsync();
var grains = host.Services.GetRequiredService<IClusterClient>();
var conversation = grains.GetGrain<IConversationGrain>(Tenancy.Key(settings.Tenant, settings.ConversationId));

// Inside the trust boundary the caller is whoever this service says it is: the grains take its word (see the docs).
// A bot sender for the message; an admin of the tenant to read the conversation.
var bot = new Caller(settings.Tenant, ParticipantRole.Bot, "grain-client", settings.BotName, IsAdmin: false);
var reader = new Caller(settings.Tenant, ParticipantRole.Agent, "grain-client", settings.BotName, IsAdmin: true);

// The clientMsgId makes a retry of this run harmless: the same id again is answered with the original ack.
var sent = await conversation.Send(new SendMessage(bot, settings.ClientMsgId, settings.Text, ConnectionId: null));
if (sent.Error is { } error)
{
    Console.Error.WriteLine($"send refused: {error.Code}: {error.Message}");
    await host.StopAsync();
    return 1;
}

Console.WriteLine($"sent seq={sent.Value!.Seq} id={sent.Value.MessageId}");
var page = await conversation.GetMessages(reader, afterSeq: Math.Max(0, sent.Value.Seq - 10), limit: 10);
foreach (var message in page.Value?.Messages ?? [])
{
    Console.WriteLine($"{message.Seq} {message.Sender.Role.ToString().ToLowerInvariant()} {message.Sender.Name ?? message.Sender.Id}: {message.Text}");
}

await host.StopAsync();
return 0;
