namespace Kefu.Gateway.Tests.Infrastructure;

[CollectionDefinition(Name)]
public sealed class GatewayCollection : ICollectionFixture<GatewayFixture>
{
    public const string Name = "gateway";
}

/// <summary>A gateway with tight per-connection limits, for flood tests.</summary>
public sealed class StrictGatewayFixture : GatewayFixture
{
    public const int WidgetPerMinute = 5;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Kefu:RateLimits:WidgetPerMinute"] = WidgetPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Kefu:WebSocket:FramesPerSecond"] = "2",
        ["Kefu:WebSocket:FrameBurst"] = "10",
        ["Kefu:WebSocket:MaxRejectedInARow"] = "50",
        ["Kefu:RateLimits:LoginsPerMinute"] = "5",
        ["Kefu:RateLimits:UploadsPerMinute"] = "2",
    };
}

[CollectionDefinition(Name)]
public sealed class StrictGatewayCollection : ICollectionFixture<StrictGatewayFixture>
{
    public const string Name = "strict-gateway";
}

/// <summary>
/// A gateway of its own for contact-centre tests: assignment depends on who is online, so these tests must not share
/// agents or queues with the chat tests. Short keep-alive so a silent client is cut off within seconds.
/// </summary>
public sealed class DeskGatewayFixture : GatewayFixture
{
    /// <summary>These tests decide who is online themselves.</summary>
    protected override bool StaffDefaultInbox => false;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Kefu:WebSocket:KeepAliveInterval"] = "00:00:01",
        ["Kefu:WebSocket:KeepAliveTimeout"] = "00:00:01",
    };
}

[CollectionDefinition(Name)]
public sealed class DeskGatewayCollection : ICollectionFixture<DeskGatewayFixture>
{
    public const string Name = "desk-gateway";
}
