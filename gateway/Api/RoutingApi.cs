namespace Kefu.Gateway.Api;

/// <summary>
/// Routing rules (issue #15, INTEGRATION.md §6, docs/routing.md): <c>GET/PUT /api/v1/routing</c>,
/// <c>POST /api/v1/routing/dry-run</c>, <c>GET /api/v1/routing/executions</c>. STUB in the base commit.
/// </summary>
public static class RoutingApi
{
    public static IEndpointRouteBuilder MapRoutingApi(this IEndpointRouteBuilder app) => app;
}
