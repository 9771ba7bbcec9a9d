namespace Kefu.Gateway.Tests.Infrastructure;

[CollectionDefinition(Name)]
public sealed class GatewayCollection : ICollectionFixture<GatewayFixture>
{
    public const string Name = "gateway";
}

/// <summary>A gateway with tight per-connection limits, for flood tests.</summary>
public sealed class StrictGatewayFixture : GatewayFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Kefu:WebSocket:FramesPerSecond"] = "2",
        ["Kefu:WebSocket:FrameBurst"] = "10",
        ["Kefu:WebSocket:MaxRejectedInARow"] = "50",
        ["Kefu:RateLimits:LoginsPerMinute"] = "5",
    };
}

[CollectionDefinition(Name)]
public sealed class StrictGatewayCollection : ICollectionFixture<StrictGatewayFixture>
{
    public const string Name = "strict-gateway";
}
