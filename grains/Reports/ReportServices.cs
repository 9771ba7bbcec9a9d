using Kefu.Grains.Events;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Kefu.Grains.Reports;

/// <summary>How the report projection runs on a silo (<c>Kefu:Reports</c>, docs/reports.md).</summary>
public sealed class ReportOptions
{
    public const string Section = "Kefu:Reports";

    /// <summary>How often a projector looks for events committed on other silos (this silo's wake it at once).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Events read per page; a page's facts are one store batch.</summary>
    public int BatchSize { get; set; } = 500;
}

/// <summary>Wakes a tenant's report projector when a conversation change is committed on this silo.</summary>
public sealed class ReportWakeups : TenantWakeups;

public static class ReportServices
{
    /// <summary>Options, wake-ups, and the in-memory store unless a MySQL one was registered before (cluster mode).</summary>
    public static IServiceCollection AddKefuReports(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ReportOptions>()
            .Bind(configuration.GetSection(ReportOptions.Section))
            .Validate(o => o.PollInterval > TimeSpan.Zero && o.BatchSize is > 0 and <= 5000, "Kefu:Reports: PollInterval must be positive; BatchSize 1-5000.")
            .ValidateOnStart();
        services.TryAddSingleton<ReportWakeups>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConversationEventSink, TenantWakeupSink<ReportWakeups>>());
        services.TryAddSingleton<IReportStore, InMemoryReportStore>();
        return services;
    }
}
