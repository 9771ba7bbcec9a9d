using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Grains.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kefu.Benchmarks;

/// <summary>
/// <c>crm</c>: N new contacts synced to a CRM that allows R requests a second (docs/performance.md, issue #17). One
/// embedded silo in this process with a CRM configured; the CRM is Kestrel on loopback with a token bucket of R requests
/// a second that answers 429 (<c>Retry-After: 1</c>) beyond it. Counts how long until every contact is in sync, against
/// the time the limit allows (2 requests per contact: the upsert and the verifying read), and how many 429s there were.
/// </summary>
public static class CrmRun
{
    public const string Usage = """
        crm mode: dotnet run -c Release --project tests/Benchmarks -- crm [options]
          --contacts N        contacts created (default 10000)
          --limit R           requests a second the CRM allows (default 100)
          --client-rate R     requests a second Kefu is configured to send (default 95% of --limit; 0 = no limit)
          --concurrency N     contacts created at the same time (default 64)
        """;

    private const string Tenant = "bench";

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var contacts = int.Parse(BenchHost.Arg(args, "--contacts") ?? "10000", CultureInfo.InvariantCulture);
        var limit = double.Parse(BenchHost.Arg(args, "--limit") ?? "100", CultureInfo.InvariantCulture);
        var clientRate = double.Parse(BenchHost.Arg(args, "--client-rate") ?? (limit * 0.95).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        var concurrency = int.Parse(BenchHost.Arg(args, "--concurrency") ?? "64", CultureInfo.InvariantCulture);
        if (contacts < 1 || limit <= 0 || clientRate < 0 || concurrency < 1)
        {
            throw new ArgumentException("--contacts, --limit and --concurrency must be positive, --client-rate not negative.");
        }

        var crm = new LimitedCrm(limit);
        await using var server = await crm.StartAsync();
        using var host = await StartSiloAsync(server.Urls.First(), clientRate, cancellationToken);
        var grains = host.Services.GetRequiredService<IGrainFactory>();

        var clock = Stopwatch.StartNew();
        var ids = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, contacts), new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
            async (i, _) =>
            {
                var externalId = "bench-" + i.ToString(CultureInfo.InvariantCulture);
                var lookup = await grains.GetGrain<IContactIndexGrain>(Tenancy.Key(Tenant, externalId))
                    .FindOrCreate(new ContactPatch("Contact " + i.ToString(CultureInfo.InvariantCulture), $"c{i}@example.com"), Causation.Of("bench"));
                ids.Add(lookup.Contact.ContactId);
            });
        var created = clock.Elapsed;
        Console.WriteLine($"{contacts} contacts created in {created.TotalSeconds:0.0} s; waiting for the CRM ({limit:0} requests/s allows {2 * contacts / limit:0} s)");

        var remaining = new HashSet<string>(ids, StringComparer.Ordinal);
        var lastReport = TimeSpan.Zero;
        while (remaining.Count > 0)
        {
            await Task.Delay(1000, cancellationToken);
            var views = await Task.WhenAll(remaining.Select(async id => (id, view: await grains.GetGrain<ICrmSyncGrain>(CrmSyncKeys.Of(Tenant, "limited", CrmRecordKinds.Contact, id)).Get())));
            foreach (var (id, view) in views)
            {
                if (view?.State == CrmSyncStates.InSync)
                {
                    remaining.Remove(id);
                }
            }

            if (clock.Elapsed - lastReport >= TimeSpan.FromSeconds(10))
            {
                lastReport = clock.Elapsed;
                Console.WriteLine($"  {clock.Elapsed.TotalSeconds:0} s: {contacts - remaining.Count} in sync, {crm.Requests} requests, {crm.Refused} answered 429");
            }
        }

        var total = clock.Elapsed;
        var ideal = 2 * contacts / limit;
        Console.WriteLine($"""

            | contacts | CRM limit | client rate | all in sync after | the limit allows | requests | 429 answers |
            |---|---|---|---|---|---|---|
            | {contacts} | {limit:0}/s | {(clientRate > 0 ? clientRate.ToString("0", CultureInfo.InvariantCulture) + "/s" : "none")} | {total.TotalSeconds:0.0} s | {ideal:0.0} s | {crm.Requests} | {crm.Refused} |
            """);
        return 0;
    }

    private static Task<IHost> StartSiloAsync(string crmUrl, double clientRate, CancellationToken cancellationToken) =>
        BenchHost.StartSiloAsync(new Dictionary<string, string?>
        {
            ["Kefu:Crm:PollInterval"] = "00:00:00.200",
            ["Kefu:Crm:BatchSize"] = "500",
            ["Kefu:Crm:ReconcileInterval"] = "00:00:00",
            ["Kefu:Crm:Connectors:limited:Tenant"] = Tenant,
            ["Kefu:Crm:Connectors:limited:BaseUrl"] = crmUrl,
            ["Kefu:Crm:Connectors:limited:RequestsPerSecond"] = clientRate.ToString(CultureInfo.InvariantCulture),
            ["Kefu:Crm:Connectors:limited:CircuitBreaker:MinimumThroughput"] = "100000",
            ["Kefu:Crm:Connectors:limited:StepTimeout"] = "00:00:10",
            ["Kefu:Crm:Connectors:limited:Contacts:Upsert:Path"] = "/contacts/{id}",
            ["Kefu:Crm:Connectors:limited:Contacts:Get:Path"] = "/contacts/{id}",
            ["Kefu:Crm:Connectors:limited:Contacts:Fields:name"] = "name",
            ["Kefu:Crm:Connectors:limited:Contacts:Fields:email"] = "email",
        }, cancellationToken);

    /// <summary>A CRM with a rate limit: R requests a second (a token bucket holding a tenth of a second's worth), 429 beyond.</summary>
    private sealed class LimitedCrm(double limit)
    {
        private readonly ConcurrentDictionary<string, JsonObject> _records = new(StringComparer.Ordinal);
        private readonly Lock _gate = new();
        private double _tokens = Math.Max(1, limit / 10);
        private long _refilledAt = Stopwatch.GetTimestamp();
        private long _requests;
        private long _refused;

        public long Requests => Interlocked.Read(ref _requests);

        public long Refused => Interlocked.Read(ref _refused);

        public async Task<WebApplication> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            app.Run(HandleAsync);
            await app.StartAsync();
            return app;
        }

        private bool Take()
        {
            lock (_gate)
            {
                var now = Stopwatch.GetTimestamp();
                _tokens = Math.Min(Math.Max(1, limit / 10), _tokens + (Stopwatch.GetElapsedTime(_refilledAt, now).TotalSeconds * limit));
                _refilledAt = now;
                if (_tokens < 1)
                {
                    return false;
                }

                _tokens -= 1;
                return true;
            }
        }

        private async Task HandleAsync(HttpContext context)
        {
            Interlocked.Increment(ref _requests);
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            if (!Take())
            {
                Interlocked.Increment(ref _refused);
                context.Response.StatusCode = 429;
                context.Response.Headers.RetryAfter = "1";
                return;
            }

            var key = context.Request.Path.Value!;
            if (context.Request.Method != "GET")
            {
                _records[key] = JsonNode.Parse(body) as JsonObject ?? [];
            }
            else if (!_records.ContainsKey(key))
            {
                context.Response.StatusCode = 404;
                return;
            }

            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(_records[key].ToJsonString());
        }
    }
}
