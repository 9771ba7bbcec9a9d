using System.Diagnostics.Metrics;
using Kefu.Grains.Crm;
using Kefu.Grains.Telemetry;

namespace Kefu.Gateway.Tests.Telemetry;

/// <summary>
/// The Prometheus series the app exports for its own meters (Kefu, Kefu.Crm): every instrument they publish, named as
/// the OpenTelemetry Prometheus exporter names it (dots to underscores, the unit as a suffix, _total for counters,
/// _bucket/_sum/_count for histograms). The metrics test checks this naming against a real scrape.
/// </summary>
internal static class KefuSeries
{
    public static IReadOnlySet<string> All()
    {
        // Naming the instruments also creates them (the static class initializes on first use).
        var names = KefuMetrics.Instruments.SelectMany(For).ToHashSet(StringComparer.Ordinal);
        using var crm = new CrmMetrics(); // its instruments exist once a host has made one: make one here
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name is KefuMetrics.MeterName or CrmMetrics.MeterName)
                {
                    names.UnionWith(For(instrument));
                }
            },
        };
        listener.Start();
        return names;
    }

    /// <summary>The series names of one instrument.</summary>
    public static IEnumerable<string> For(Instrument instrument)
    {
        var name = instrument.Name.Replace('.', '_') + instrument.Unit switch
        {
            "s" => "_seconds",
            "ms" => "_milliseconds",
            "By" => "_bytes",
            _ => "", // {annotations} carry no suffix
        };
        var type = instrument.GetType();
        var kind = type.IsGenericType ? type.GetGenericTypeDefinition() : type;
        if (kind == typeof(Histogram<>))
        {
            return [name + "_bucket", name + "_sum", name + "_count"];
        }

        return kind == typeof(Counter<>) || kind == typeof(ObservableCounter<>) ? [name + "_total"] : [name];
    }

    public static string Of(Instrument instrument, string suffix = "") => For(instrument).First(n => n.EndsWith(suffix, StringComparison.Ordinal));
}
