using Kefu.Contracts.Messages;
using Microsoft.AspNetCore.Diagnostics;

namespace Kefu.Gateway.Api;

/// <summary>
/// A request that needed the cluster while it could not answer (a silo just died and its grains are moving, the gateway
/// lost its connection): <c>503 unavailable</c> with <c>Retry-After: 1</c>, the answer a client can act on, instead of a
/// bare 500. Nothing was done, so a retry is safe for reads and for the idempotent writes.
/// </summary>
public sealed class ClusterUnavailableHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        if (exception is not (OrleansException or TimeoutException) || httpContext.Response.HasStarted)
        {
            return false;
        }

        httpContext.Response.Headers.RetryAfter = "1";
        await Problems.Create(StatusCodes.Status503ServiceUnavailable, ErrorCodes.Unavailable, "The cluster did not answer in time; retry.")
            .ExecuteAsync(httpContext);
        return true;
    }
}
