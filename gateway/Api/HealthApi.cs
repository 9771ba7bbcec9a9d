using Kefu.Gateway.Hosting;

namespace Kefu.Gateway.Api;

public static class HealthApi
{
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new { status = "live" })).AllowAnonymous();
        app.MapGet("/readyz", (GatewayReadiness readiness) => readiness.IsReady
            ? Results.Ok(new { status = "ready" })
            : Problems.Create(StatusCodes.Status503ServiceUnavailable, Contracts.Messages.ErrorCodes.Unavailable, "The gateway is not connected to the cluster yet."))
            .AllowAnonymous();
        return app;
    }
}
