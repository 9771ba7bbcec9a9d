using Kefu.Grains.Events;

namespace Kefu.Grains.ConversationEvents;

/// <summary>
/// Wakes this silo's active Kafka relay of a tenant when events are committed here, so they reach Kafka within
/// milliseconds instead of at the next poll (<see cref="TenantWakeups"/>). Registered on every silo: inbound events poke
/// it directly (with Kafka off nothing registers, and a notification does nothing).
/// </summary>
public sealed class ConversationEventsWakeups : TenantWakeups;
