using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;

namespace Kefu.Gateway.Email;

/// <summary>Where a failed delivery that a bounce reports goes. Production: the outbound mail's grain.</summary>
public interface IBounceSink
{
    Task BouncedAsync(string tenant, string mailId, string reason);
}

/// <summary>Tells <see cref="IOutboundMailGrain"/> ("{tenant}/{mailId}") that its mail bounced; the grain records and shows it.</summary>
public sealed class GrainBounceSink(IGrainFactory grains) : IBounceSink
{
    public Task BouncedAsync(string tenant, string mailId, string reason) =>
        grains.GetGrain<IOutboundMailGrain>(Tenancy.Key(tenant, mailId)).Bounced(reason);
}
