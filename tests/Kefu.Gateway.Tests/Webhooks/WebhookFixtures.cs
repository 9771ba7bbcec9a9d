using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.Webhooks;

/// <summary>
/// A gateway of its own for webhook delivery: loopback targets allowed, a retry schedule of fractions of a second, a one
/// second timeout and a fast poll, so retries, timeouts and Retry-After play out within a test.
/// </summary>
public sealed class WebhooksGatewayFixture : GatewayFixture
{
    protected override bool StaffDefaultInbox => false;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Kefu:Webhooks:AllowPrivateTargets"] = "true",
        ["Kefu:Webhooks:RetrySchedule"] = "300ms,300ms,300ms,300ms,300ms,300ms",
        ["Kefu:Webhooks:Jitter"] = "0",
        ["Kefu:Webhooks:Timeout"] = "00:00:01",
        ["Kefu:Webhooks:PollInterval"] = "00:00:00.100",
        ["Kefu:Webhooks:CircuitBreakerFailures"] = "50",
        ["Kefu:Webhooks:CircuitBreakerCooldown"] = "00:00:00.300",
        ["Kefu:Webhooks:DisableAfter"] = "00:10:00",
        ["Kefu:Webhooks:LogFlushInterval"] = "00:00:00.100",
        ["Kefu:Webhooks:SecretOverlap"] = "00:10:00",
    };
}

[CollectionDefinition(Name)]
public sealed class WebhooksGatewayCollection : ICollectionFixture<WebhooksGatewayFixture>
{
    public const string Name = "webhooks-gateway";
}

/// <summary>Like <see cref="WebhooksGatewayFixture"/>, with a circuit that opens after three failures and endpoints disabled after two failing seconds.</summary>
public sealed class StrictWebhooksGatewayFixture : GatewayFixture
{
    protected override bool StaffDefaultInbox => false;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Kefu:Webhooks:AllowPrivateTargets"] = "true",
        ["Kefu:Webhooks:RetrySchedule"] = "200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms",
        ["Kefu:Webhooks:Jitter"] = "0",
        ["Kefu:Webhooks:Timeout"] = "00:00:01",
        ["Kefu:Webhooks:PollInterval"] = "00:00:00.100",
        ["Kefu:Webhooks:CircuitBreakerFailures"] = "3",
        ["Kefu:Webhooks:CircuitBreakerCooldown"] = "00:00:00.500",
        ["Kefu:Webhooks:DisableAfter"] = "00:00:02",
        ["Kefu:Webhooks:LogFlushInterval"] = "00:00:00.100",
    };
}

[CollectionDefinition(Name)]
public sealed class StrictWebhooksGatewayCollection : ICollectionFixture<StrictWebhooksGatewayFixture>
{
    public const string Name = "strict-webhooks-gateway";
}
