namespace Kefu.Gateway.Api;

/// <summary>Issue #14 (INTEGRATION.md): filled in by its owner (see the contract).</summary>
public static class WebhooksApi
{
    public static IEndpointRouteBuilder MapWebhooksApi(this IEndpointRouteBuilder app) => app;
}
