using Orleans.Configuration;
using Orleans.Versions.Compatibility;
using Orleans.Versions.Selector;

namespace Kefu.Silo;

/// <summary>
/// Grain interface versioning during a rolling upgrade (docs/upgrading.md). These are Orleans' defaults, written down
/// so that an upgrade never depends on a default changing underneath: a call made against interface version N may run
/// on any silo whose version is N or later (backward compatible), and a new activation goes to any compatible silo.
/// No interface carries <c>[Version]</c> yet (all are version 0); the first breaking change to one adds
/// <c>[Version(1)]</c> to it, following docs/upgrading.md.
/// </summary>
public static class GrainVersioning
{
    public static ISiloBuilder AddKefuVersioning(this ISiloBuilder silo) =>
        silo.Configure<GrainVersioningOptions>(o =>
        {
            o.DefaultCompatibilityStrategy = nameof(BackwardCompatible);
            o.DefaultVersionSelectorStrategy = nameof(AllCompatibleVersions);
        });
}
