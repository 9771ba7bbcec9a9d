using Kefu.Grains.Events;

namespace Kefu.Grains.Webhooks;

/// <summary>
/// Wakes this silo's active endpoints of a tenant when events are committed here, so a delivery starts within
/// milliseconds instead of at the next poll (<see cref="TenantWakeups"/>).
/// </summary>
public sealed class WebhookWakeups : TenantWakeups;
