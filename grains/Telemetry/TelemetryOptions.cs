using System.Net;

namespace Kefu.Grains.Telemetry;

/// <summary>Configuration section <c>Kefu:Telemetry</c> (docs/operations.md). Every exporter is off by default.</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Kefu:Telemetry";

    /// <summary>Adds a <c>tenant</c> tag to the Kefu meter's measurements (one series per tenant: off by default).</summary>
    public bool TenantTag { get; set; }

    /// <summary>The <c>service.name</c> resource attribute; each host has its own default (kefu-gateway, kefu-silo).</summary>
    public string? ServiceName { get; set; }

    public PrometheusSettings Prometheus { get; set; } = new();

    public OtlpSettings Otlp { get; set; } = new();

    public TracingSettings Tracing { get; set; } = new();

    /// <summary>Whether any exporter wants the metrics pipeline.</summary>
    public bool MetricsOn => Prometheus.Enabled || (Otlp.On && Otlp.Metrics);

    /// <summary>Whether any exporter wants spans (only OTLP exports them).</summary>
    public bool TracesOn => Otlp.On && Otlp.Traces;

    /// <summary>
    /// Whether grain calls carry the trace context (Orleans activity propagation): when spans are exported, or when
    /// <see cref="TracingSettings.Enabled"/> asks for it (another listener in the process). Off otherwise, so the
    /// default chat path has no grain call filter at all.
    /// </summary>
    public bool PropagateTraces => Tracing.Enabled ?? TracesOn;

    public static TelemetryOptions From(Microsoft.Extensions.Configuration.IConfiguration configuration) =>
        Microsoft.Extensions.Configuration.ConfigurationBinder.Get<TelemetryOptions>(configuration.GetSection(Section)) ?? new TelemetryOptions();

    public sealed class PrometheusSettings
    {
        public bool Enabled { get; set; }

        public string Path { get; set; } = "/metrics";

        /// <summary>
        /// Client networks allowed to scrape (CIDR). Default: loopback only. The address is the one after trusted
        /// proxies (Kefu:ForwardedHeaders): a scraper behind the same proxy as the public is refused like the public.
        /// </summary>
        public string[] AllowedNetworks { get; set; } = ["127.0.0.0/8", "::1/128"];
    }

    public sealed class OtlpSettings
    {
        /// <summary>The collector, e.g. http://otel-collector:4317 (gRPC) or http://otel-collector:4318 (HTTP). Unset: off.</summary>
        public string? Endpoint { get; set; }

        /// <summary><c>grpc</c> (default) or <c>http/protobuf</c>.</summary>
        public string Protocol { get; set; } = "grpc";

        /// <summary>Optional headers for the collector, "key=value,key2=value2" (an API key of a hosted backend).</summary>
        public string? Headers { get; set; }

        public bool Traces { get; set; } = true;

        public bool Metrics { get; set; } = true;

        public bool Logs { get; set; } = true;

        /// <summary>How often metrics are pushed, in milliseconds.</summary>
        public int MetricsIntervalMs { get; set; } = 15_000;

        public bool On => !string.IsNullOrWhiteSpace(Endpoint);
    }

    public sealed class TracingSettings
    {
        /// <summary>Trace context through grain calls without an OTLP exporter (for a listener of its own); default: with OTLP traces.</summary>
        public bool? Enabled { get; set; }

        /// <summary>The share of new traces kept (0..1); a child follows its parent's decision.</summary>
        public double SampleRatio { get; set; } = 1.0;
    }
}

/// <summary>Which client addresses may read /metrics.</summary>
public sealed class ScrapeAccess(IEnumerable<string> networks)
{
    private readonly IPNetwork[] _networks = [.. networks.Select(IPNetwork.Parse)];

    public bool Allows(IPAddress? address)
    {
        if (address is null)
        {
            return false;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return _networks.Any(n => n.Contains(address));
    }
}
