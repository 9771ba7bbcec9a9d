using System.Collections.Concurrent;
using Kefu.Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kefu.Gateway.Tests.WsGuard;

/// <summary>
/// A gateway for the robustness tests of the WebSocket and REST guards: no frame rate limit in the way of fuzzing,
/// small sync pages and sync byte budget (so paging shows with few messages), a small socket cap, and every log line
/// captured (to check for stack traces and tokens in logs).
/// </summary>
public sealed class GuardGatewayFixture : GatewayFixture
{
    public const int SyncPageSize = 50;
    public const int OutboundBytes = 256 * 1024;
    public const int SyncByteBudget = 32 * 1024;
    public const int MaxConnections = 3;

    public LogCapture Logs { get; } = new();

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Kefu:WebSocket:FramesPerSecond"] = "100000",
        ["Kefu:WebSocket:FrameBurst"] = "100000",
        ["Kefu:WebSocket:SyncPageSize"] = SyncPageSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Kefu:WebSocket:OutboundBytes"] = OutboundBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Kefu:WebSocket:SyncByteBudget"] = SyncByteBudget.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Kefu:WebSocket:MaxConnectionsPerParticipant"] = MaxConnections.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Kefu:RateLimits:RestPerMinute"] = "100000",
        // Request logs (where a URL would show) are Information; Orleans stays quiet.
        ["Logging:LogLevel:Default"] = "Information",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Information",
        ["Logging:LogLevel:Orleans"] = "Warning",
        ["Logging:LogLevel:Microsoft.Orleans"] = "Warning",
    };

    protected override void ConfigureBuilder(WebApplicationBuilder builder) =>
        builder.Logging.Services.AddSingleton<ILoggerProvider>(Logs);
}

[CollectionDefinition(Name)]
public sealed class GuardGatewayCollection : ICollectionFixture<GuardGatewayFixture>
{
    public const string Name = "guard-gateway";
}

/// <summary>A gateway with a tiny per-token REST budget.</summary>
public sealed class RestLimitGatewayFixture : GatewayFixture
{
    public const int RestPerMinute = 8;

    /// <summary>Staffing the inbox spends the admin's budget; these tests make their own agents.</summary>
    protected override bool StaffDefaultInbox => false;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Kefu:RateLimits:RestPerMinute"] = RestPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

[CollectionDefinition(Name)]
public sealed class RestLimitGatewayCollection : ICollectionFixture<RestLimitGatewayFixture>
{
    public const string Name = "rest-limit-gateway";
}

/// <summary>Every log entry of the gateway, formatted, with its exception if any.</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<Entry> _entries = new();

    public IReadOnlyList<Entry> Entries => [.. _entries];

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, this);

    public void Dispose()
    {
    }

    public sealed record Entry(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception)
    {
        public override string ToString() => $"{Level} {Category}[{EventId.Id}]: {Message}{(Exception is null ? "" : " " + Exception)}";
    }

    private sealed class Logger(string category, LogCapture capture) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            capture._entries.Enqueue(new Entry(category, logLevel, eventId, Format(state, exception, formatter), exception));

        /// <summary>The message and every structured value (a value may hold more than the message shows).</summary>
        private static string Format<TState>(TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var text = formatter(state, exception);
            if (state is IEnumerable<KeyValuePair<string, object?>> values)
            {
                text += " | " + string.Join(" ", values.Select(v => $"{v.Key}={v.Value}"));
            }

            return text;
        }
    }
}
