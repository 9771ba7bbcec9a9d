using Kefu.Grains.Events;

namespace Kefu.Grains.Routing.Runtime;

/// <summary>
/// Wakes this silo's active router of a tenant when events of a type its rules read are committed here (a
/// conversation's change, or a tenant-level event appended through <see cref="IEventLog"/>: inbound events, emitted
/// events), so rules act within milliseconds instead of at the next poll; other events (every chat message, when the
/// rules only listen to inbound events) do not make it read (<see cref="TenantWakeups.Registration.Types"/>).
/// </summary>
public sealed class RoutingWakeups : TenantWakeups;
