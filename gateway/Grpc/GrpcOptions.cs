namespace Kefu.Gateway.Grpc;

/// <summary>Bound from <c>Kefu:Grpc</c>: the integration API over gRPC (docs/integration.md §16).</summary>
public sealed class KefuGrpcOptions
{
    public const string Section = "Kefu:Grpc";

    /// <summary>
    /// The HTTP/2 (h2c, or https) address the gRPC services listen on, e.g. <c>http://127.0.0.1:5081</c>; gRPC is off
    /// when unset. <c>appsettings.Development.json</c> sets <c>http://localhost:5081</c> for <c>dotnet run</c>.
    /// </summary>
    public string? Url { get; set; }

    /// <summary>A Subscribe stream with nothing to send gets a heartbeat carrying its cursor this often.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often a tenant's shared tail reads the event log while it has subscribers on this gateway.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Events a subscriber may have waiting between the shared tail and its stream. One that falls further behind is
    /// dropped from the tail and reads the history itself until it has caught up again (no gap, no duplicate).
    /// </summary>
    public int SubscriberBuffer { get; set; } = 2000;

    /// <summary>Events per read of the event log (history pages and tail reads), at most the events API's 500.</summary>
    public int PageSize { get; set; } = 500;
}
