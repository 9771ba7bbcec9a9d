using System.Diagnostics.Metrics;

namespace Kefu.Grains.Crm;

/// <summary>
/// CRM sync metrics (meter <c>Kefu.Crm</c>): attempts and requests by CRM, kind and outcome, and the lag from a local
/// change to the CRM confirming it. Exported by whatever metrics pipeline the host has (OpenTelemetry, dotnet-counters).
/// </summary>
public sealed class CrmMetrics : IDisposable
{
    public const string MeterName = "Kefu.Crm";

    private readonly Meter _meter = new(MeterName);
    private readonly Counter<long> _attempts;
    private readonly Counter<long> _requests;
    private readonly Histogram<double> _lag;

    public CrmMetrics()
    {
        _attempts = _meter.CreateCounter<long>("kefu.crm.attempts", description: "Sync attempts by outcome (in_sync, retry, failed, conflict, adopt).");
        _requests = _meter.CreateCounter<long>("kefu.crm.requests", description: "HTTP requests made to CRMs.");
        _lag = _meter.CreateHistogram<double>("kefu.crm.lag", unit: "s", description: "From a local change to the CRM verified to hold it.");
    }

    public void Attempt(string crm, string kind, CrmAttemptOutcome outcome, int requests)
    {
        var tags = new KeyValuePair<string, object?>[] { new("crm", crm), new("kind", kind), new("outcome", outcome.ToString().ToLowerInvariant()) };
        _attempts.Add(1, tags);
        _requests.Add(requests, tags[0], tags[1]);
    }

    /// <param name="version">The confirmed local version: its change time in microseconds (<see cref="CrmFields.VersionOf"/>).</param>
    public void InSync(string crm, string kind, long version, DateTimeOffset now)
    {
        if (version > 0)
        {
            _lag.Record(Math.Max(0, (now.UtcTicks - (version * 10)) / (double)TimeSpan.TicksPerSecond), new("crm", crm), new("kind", kind));
        }
    }

    public void Dispose() => _meter.Dispose();
}
