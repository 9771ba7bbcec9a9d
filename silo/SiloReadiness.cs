using Kefu.Contracts.Messages;
using Orleans.Runtime;

namespace Kefu.Silo;

/// <summary>
/// <c>/readyz</c>: this silo is an Active member of the cluster and is not stopping. Kestrel starts after the silo, so
/// <c>/healthz</c> answering already means "started"; readiness adds what a rolling update and a PodDisruptionBudget
/// need to know: a silo counts as available only while the membership table lists it Active, and stops counting as
/// soon as it begins to leave (its grains are being handed over).
/// </summary>
public static class SiloReadiness
{
    public static IResult Check(IClusterMembershipService membership, ILocalSiloDetails silo, IHostApplicationLifetime lifetime)
    {
        var status = membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress);
        return status == SiloStatus.Active && !lifetime.ApplicationStopping.IsCancellationRequested
            ? TypedResults.Ok(new { status = "ready" })
            : TypedResults.Problem(
                detail: $"The silo is {status.ToString().ToLowerInvariant()}, not an active cluster member.",
                statusCode: StatusCodes.Status503ServiceUnavailable,
                extensions: new Dictionary<string, object?> { ["code"] = ErrorCodes.Unavailable });
    }
}
