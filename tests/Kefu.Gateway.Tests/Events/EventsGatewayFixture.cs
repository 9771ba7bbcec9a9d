using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.Events;

/// <summary>
/// A gateway of its own for the events API: its tests read the tenant's whole outbox from a known head, so no other
/// test class may add events to it meanwhile.
/// </summary>
public sealed class EventsGatewayFixture : GatewayFixture
{
}

[CollectionDefinition(Name)]
public sealed class EventsGatewayCollection : ICollectionFixture<EventsGatewayFixture>
{
    public const string Name = "events-gateway";
}
