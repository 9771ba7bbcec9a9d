using Kefu.Gateway.Hosting;

// "routing check FILE": validates a routing ruleset and exits 0/1 (for CI), without starting anything.
if (RoutingCheckCommand.TryRun(args, Console.Out, out var exitCode))
{
    return exitCode;
}

// "kafka replay-dlq": sends customer_events' dead letters back to the topic and exits (docs/integration.md §14).
if (await KafkaReplayCommand.TryRunAsync(args, Console.Out) is { } replayExitCode)
{
    return replayExitCode;
}

// Content root = the app's folder, not the working directory: started from elsewhere ("dotnet /opt/kefu/Kefu.Gateway.dll")
// it still reads its appsettings.json (log levels included).
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddKefuGateway();

var app = builder.Build();
app.MapKefuGateway();
app.Run();
return 0;
