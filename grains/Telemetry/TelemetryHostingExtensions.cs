using Kefu.Grains.Crm;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Kefu.Grains.Telemetry;

/// <summary>
/// The one OpenTelemetry setup of both hosts (the gateway, embedded silo included, and the standalone silo), after
/// eShop's ServiceDefaults: meters, sources and exporters from <c>Kefu:Telemetry</c> (docs/operations.md). With no
/// exporter configured nothing of the SDK is registered: the instruments and sources then have no listener and cost a
/// flag check (measured in docs/performance.md, "Telemetry").
/// </summary>
public static partial class TelemetryHostingExtensions
{
    /// <summary>The meters exported besides ASP.NET Core's, HttpClient's and the runtime's.</summary>
    public static readonly string[] Meters = [KefuMetrics.MeterName, CrmMetrics.MeterName, "Microsoft.Orleans"];

    /// <summary>MySqlConnector's activity source (cluster mode: every query of the stores is a span).</summary>
    public const string MySqlSource = "MySqlConnector";

    public static IHostApplicationBuilder AddKefuTelemetry(this IHostApplicationBuilder builder, string serviceName)
    {
        var section = builder.Configuration.GetSection(TelemetryOptions.Section);
        var options = TelemetryOptions.From(builder.Configuration);
        builder.Services.Configure<TelemetryOptions>(section);
        KefuMetrics.TenantTags = options.TenantTag;

        // Log records carry the current trace and span ids (as a scope for console and files, as fields for OTLP), so
        // a log line leads to its trace and back.
        builder.Logging.Configure(o => o.ActivityTrackingOptions =
            ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
        var otlpLogs = options.Otlp.On && options.Otlp.Logs;
        if (!options.MetricsOn && !options.TracesOn && !otlpLogs)
        {
            return builder;
        }

        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(options.ServiceName ?? serviceName, serviceVersion: typeof(KefuMetrics).Assembly.GetName().Version?.ToString()));
        if (options.MetricsOn)
        {
            otel.WithMetrics(metrics =>
            {
                metrics.AddMeter(Meters)
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation();
                if (options.Prometheus.Enabled)
                {
                    metrics.AddPrometheusExporter();
                }

                if (options.Otlp.On && options.Otlp.Metrics)
                {
                    metrics.AddOtlpExporter((exporter, reader) =>
                    {
                        Apply(options.Otlp, exporter, "v1/metrics");
                        reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = options.Otlp.MetricsIntervalMs;
                    });
                }
            });
        }

        if (options.TracesOn)
        {
            var scrapePath = options.Prometheus.Path;
            otel.WithTracing(tracing => tracing
                .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(Math.Clamp(options.Tracing.SampleRatio, 0, 1))))
                .AddSource(KefuTraces.SourceName, MySqlSource)
                .AddSource(KefuTraces.OrleansSources)
                // Scrapes and probes every few seconds are noise in a trace store.
                .AddAspNetCoreInstrumentation(o => o.Filter = ctx => !IsProbe(ctx.Request.Path, scrapePath))
                .AddHttpClientInstrumentation()
                .AddOtlpExporter(exporter => Apply(options.Otlp, exporter, "v1/traces")));
        }

        if (otlpLogs)
        {
            otel.WithLogging(logging => logging.AddOtlpExporter(exporter => Apply(options.Otlp, exporter, "v1/logs")), o => o.IncludeScopes = true);
        }

        return builder;
    }

    /// <summary>
    /// The Prometheus scrape endpoint when enabled: only clients in <see cref="TelemetryOptions.PrometheusSettings.AllowedNetworks"/>
    /// (loopback by default) get the text; anyone else gets 403 with code <c>not_allowed</c>.
    /// </summary>
    public static IEndpointRouteBuilder MapKefuTelemetry(this IEndpointRouteBuilder endpoints)
    {
        var options = endpoints.ServiceProvider.GetRequiredService<Microsoft.Extensions.Options.IOptions<TelemetryOptions>>().Value;
        if (!options.Prometheus.Enabled)
        {
            return endpoints;
        }

        var access = new ScrapeAccess(options.Prometheus.AllowedNetworks);
        var logger = endpoints.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(TelemetryHostingExtensions).FullName!);
        endpoints.MapPrometheusScrapingEndpoint(options.Prometheus.Path, meterProvider: null, optionsName: null, configureBranchedPipeline: branch => branch.Use(async (context, next) =>
        {
            if (access.Allows(context.Connection.RemoteIpAddress))
            {
                await next(context);
                return;
            }

            LogScrapeRefused(logger, context.Connection.RemoteIpAddress?.ToString());
            await Results.Problem(
                statusCode: StatusCodes.Status403Forbidden,
                title: "Forbidden",
                detail: "Metrics may only be read from the networks in Kefu:Telemetry:Prometheus:AllowedNetworks.",
                extensions: new Dictionary<string, object?> { ["code"] = Contracts.Messages.ErrorCodes.NotAllowed }).ExecuteAsync(context);
        }));
        return endpoints;
    }

    private static bool IsProbe(PathString path, string scrapePath) =>
        path.StartsWithSegments(scrapePath, StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments("/healthz", StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments("/readyz", StringComparison.OrdinalIgnoreCase);

    /// <param name="signalPath">
    /// Over HTTP an endpoint set in code is used as the full URL, so each signal gets its standard path (as the
    /// OTEL_EXPORTER_OTLP_ENDPOINT variable would); gRPC takes the base address.
    /// </param>
    private static void Apply(TelemetryOptions.OtlpSettings settings, OtlpExporterOptions exporter, string signalPath)
    {
        var http = string.Equals(settings.Protocol, "http/protobuf", StringComparison.OrdinalIgnoreCase);
        exporter.Protocol = http ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
        exporter.Endpoint = http ? new Uri(settings.Endpoint!.TrimEnd('/') + "/" + signalPath) : new Uri(settings.Endpoint!);
        if (!string.IsNullOrWhiteSpace(settings.Headers))
        {
            exporter.Headers = settings.Headers;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a metrics scrape from {Address}: not in Kefu:Telemetry:Prometheus:AllowedNetworks")]
    private static partial void LogScrapeRefused(ILogger logger, string? address);
}
