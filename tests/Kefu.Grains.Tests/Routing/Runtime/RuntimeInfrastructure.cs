using System.Collections.Concurrent;
using System.Text;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Hosting;
using Kefu.Grains.Routing;
using Kefu.Grains.Routing.Runtime;
using Kefu.Grains.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.TestingHost;

namespace Kefu.Grains.Tests.Routing.Runtime;

/// <summary>One request as the loopback ERP saw it.</summary>
public sealed record ErpRequest(string Method, string Path, string Body, string? IdempotencyKey, string? TimeoutMs, string? EventId, string? Authorization, DateTimeOffset At);

/// <summary>What the ERP answers: a status (with a body, a Retry-After), after a delay.</summary>
public sealed record ErpAnswer(int Status, string? Body = null, TimeSpan? Delay = null, int? RetryAfterSeconds = null)
{
    public static readonly ErpAnswer Ok = new(200, """{"ok":true}""");
}

/// <summary>
/// A business system on a loopback Kestrel port. Each test takes its own path prefix (<see cref="Handle"/>) with its own
/// script (answer by the attempt number of that idempotency key) and sees only its own requests.
/// </summary>
public sealed class LoopbackErp : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, ErpScript> _scripts = new(StringComparer.Ordinal);

    private LoopbackErp(WebApplication app) => _app = app;

    public Uri BaseUrl => new(_app.Urls.First());

    public static async Task<LoopbackErp> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var erp = new LoopbackErp(app);
        app.Run(erp.HandleAsync);
        await app.StartAsync();
        return erp;
    }

    /// <summary>Requests whose path starts with "/{prefix}/" are answered by <paramref name="script"/> (attempt: 1, 2, … per idempotency key).</summary>
    public ErpScript Handle(string prefix, Func<ErpRequest, int, ErpAnswer>? script = null)
    {
        var handler = new ErpScript(script ?? ((_, _) => ErpAnswer.Ok));
        _scripts[prefix] = handler;
        return handler;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        var path = context.Request.Path.Value ?? "/";
        var headers = context.Request.Headers;
        var request = new ErpRequest(context.Request.Method, path, body, headers["Idempotency-Key"].FirstOrDefault(), headers["Kefu-Timeout-Ms"].FirstOrDefault(),
            headers["Kefu-Event-Id"].FirstOrDefault(), headers.Authorization.FirstOrDefault(), DateTimeOffset.UtcNow);
        var prefix = path.Split('/', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? string.Empty;
        if (!_scripts.TryGetValue(prefix, out var script))
        {
            context.Response.StatusCode = 404;
            return;
        }

        var answer = script.Answer(request);
        if (answer.Delay is { } delay)
        {
            try
            {
                await Task.Delay(delay, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return; // the caller gave up
            }
        }

        context.Response.StatusCode = answer.Status;
        if (answer.RetryAfterSeconds is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (answer.Body is { } text)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(text);
        }
    }
}

public sealed class ErpScript(Func<ErpRequest, int, ErpAnswer> script)
{
    private readonly ConcurrentDictionary<string, int> _attempts = new(StringComparer.Ordinal);

    public ConcurrentQueue<ErpRequest> Received { get; } = new();

    internal ErpAnswer Answer(ErpRequest request)
    {
        Received.Enqueue(request);
        var attempt = _attempts.AddOrUpdate(request.IdempotencyKey ?? string.Empty, 1, (_, n) => n + 1);
        return script(request, attempt);
    }
}

/// <summary>
/// Rulesets built in code for the runtime tests, registered under the hash of a text: setting that text through the
/// rules grain puts them in force (whatever the compiler would make of it). Other texts go to the real compiler (and
/// their events to the real matcher).
/// </summary>
public sealed class TestRuleSets : IRuleSetSource
{
    private static readonly ConcurrentDictionary<string, RuleSet> Registered = new(StringComparer.Ordinal);
    private readonly CompiledRuleSets _compiler = new();

    /// <summary>A fresh text and the ruleset it stands for (<paramref name="build"/> gets the hash).</summary>
    public static (string Text, RuleSet RuleSet) Register(Func<string, RuleSet> build)
    {
        ArgumentNullException.ThrowIfNull(build);
        var text = "# test ruleset " + Guid.NewGuid().ToString("N") + "\n";
        var hash = CompiledRuleSets.HashOf(text);
        var ruleSet = build(hash);
        Registered[hash] = ruleSet;
        return (text, ruleSet);
    }

    public RuleSetCompilation Compile(string text) =>
        Registered.TryGetValue(CompiledRuleSets.HashOf(text), out var ruleSet) ? new RuleSetCompilation(ruleSet, []) : _compiler.Compile(text);

    public RuleSet? Get(RoutingRules rules) => Registered.TryGetValue(rules.Hash, out var ruleSet) ? ruleSet : _compiler.Get(rules);

    public RuleSet? TryGet(string hash) => Registered.TryGetValue(hash, out var ruleSet) ? ruleSet : _compiler.TryGet(hash);

    public static bool IsRegistered(RuleSet ruleSet) => Registered.TryGetValue(ruleSet.Hash, out var registered) && ReferenceEquals(registered, ruleSet);
}

/// <summary>
/// Matches by <c>on</c> and <c>when</c> only (first match unless the mode is all or the route continues): what the runtime
/// needs from the language, without depending on the compiler's matcher.
/// </summary>
public sealed class TestRouteSelector : IRouteSelector
{
    public IReadOnlyList<RouteMatch> Match(RuleSet ruleSet, RoutingEvent routingEvent, RoutingFacts facts)
    {
        if (!TestRuleSets.IsRegistered(ruleSet))
        {
            return RouteMatcher.Match(ruleSet, routingEvent, facts); // compiled from YAML: the language's own matcher
        }

        var matches = new List<RouteMatch>();
        foreach (var route in ruleSet.Routes)
        {
            if (route.On.Contains(routingEvent.Name) && (route.When?.Evaluate(routingEvent, facts) ?? true))
            {
                matches.Add(new RouteMatch(route, new Dictionary<string, string>()));
                if (ruleSet.Defaults.Mode == RouteMode.FirstMatch && !route.Continue)
                {
                    break;
                }
            }
        }

        return matches;
    }
}

/// <summary>One silo with the routing runtime (rulesets from <see cref="TestRuleSets"/>), a fast poll, and a loopback ERP.</summary>
public class RoutingRuntimeFixture : IAsyncLifetime
{
    private InProcessTestCluster? _cluster;

    /// <summary>How often routers poll (short here, so tests do not depend on wake-ups; see <see cref="NoPollRoutingFixture"/>).</summary>
    protected virtual string PollInterval => "00:00:00.200";

    public IClusterClient Client => (_cluster ?? throw new InvalidOperationException("The cluster is not started.")).Client;

    public LoopbackErp Erp { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Erp = await LoopbackErp.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["Kefu:Routing:PollInterval"] = PollInterval,
            ["Kefu:Routing:File"] = Path.Combine(Path.GetTempPath(), "kefu-no-such-rules-" + Guid.NewGuid().ToString("N") + ".yaml"),
            ["Kefu:Routing:Secrets:erp-token"] = "s3cret",
        };
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddKefuGrains(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
            silo.Services.AddSingleton<IRuleSetSource, TestRuleSets>();
            silo.Services.AddSingleton<IRouteSelector, TestRouteSelector>();
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        await Erp.DisposeAsync();
    }
}

/// <summary>The same silo whose routers practically never poll: only wake-ups make them read.</summary>
public sealed class NoPollRoutingFixture : RoutingRuntimeFixture
{
    protected override string PollInterval => "01:00:00";
}

/// <summary>Builders and probes shared by the runtime tests.</summary>
internal static class Rules
{
    public static readonly Caller Admin = new(Tenancy.DefaultTenant, ParticipantRole.Agent, "admin", "Admin", IsAdmin: true);

    public static Template T(string source) => Template.TryParse(source, out var error) ?? throw new InvalidOperationException(error);

    public static RouteSpec Route(string id, string on, params StepSpec[] steps) =>
        new(id, 0, [on], null, [], steps, Timeout: null, Retry: null, Continue: false, OncePer: null, Cooldown: null, Line: 1);

    public static ConnectorSpec Erp(Uri baseUrl, string prefix, ConnectorAuth? auth = null) => new("ERP", "http", baseUrl, auth,
        new Dictionary<string, OperationSpec>
        {
            ["updateOrder"] = new("updateOrder", "POST", T($"/{prefix}/orders/{{order_id}}/sync")),
            ["sync"] = new("sync", "POST", T($"/{prefix}/sync")),
        },
        Timeout: null, Line: 1);

    /// <summary>Registers the ruleset and sets it for <paramref name="tenant"/>; its router starts at the log's head.</summary>
    public static async Task<RuleSet> SetAsync(IClusterClient client, string tenant, IReadOnlyList<RouteSpec> routes, ConnectorSpec? connector = null, RoutingDefaults? defaults = null)
    {
        var (text, ruleSet) = TestRuleSets.Register(hash => new RuleSet(1, defaults ?? RoutingDefaults.Standard,
            connector is null ? new Dictionary<string, ConnectorSpec>() : new Dictionary<string, ConnectorSpec> { [connector.Name] = connector },
            new Dictionary<string, IntentSpec>(), routes, hash)
        {
            ListenedNames = routes.SelectMany(r => r.On).ToHashSet(StringComparer.Ordinal),
        });
        var set = await client.GetGrain<IRoutingRulesGrain>(tenant).Set(text, RoutingSources.Api, Admin with { Tenant = tenant });
        Assert.True(set.Succeeded, string.Join("; ", set.Problems.Select(p => p.Message)));
        return ruleSet;
    }

    /// <summary>An event from a business system (<c>POST /api/v1/webhook</c>): its id.</summary>
    public static async Task<string> InboundAsync(IClusterClient client, string tenant, string type, string dataJson, string? conversationId = null, TimeSpan? timeout = null)
    {
        var sourceId = "erp-" + Ulid.NewUlid();
        var key = new Caller(tenant, ParticipantRole.Bot, "key-1", "ERP", IsAdmin: false, KeyId: "key-1");
        var inbound = new InboundEvent(sourceId, type, conversationId, null, null, null, dataJson, "hash-" + sourceId, Tenancy.DefaultInbox, null, timeout);
        var ack = await client.GetGrain<IInboundEventGrain>(Tenancy.Key(tenant, sourceId)).Accept(inbound, key);
        return ack.Ok().EventId;
    }

    /// <summary>Every event of the tenant of the given types (and the usual ones), in cursor order.</summary>
    public static async Task<List<StoredEvent>> EventsAsync(IClusterClient client, string tenant, params string[] extraTypes)
    {
        string[] types = [.. EventTypes.All, .. extraTypes];
        var all = new List<StoredEvent>();
        var after = 0L;
        while (true)
        {
            var page = await client.GetGrain<IEventLogGrain>(tenant).Read(after, types, 500);
            all.AddRange(page.Events);
            if (page.Events.Length == 0 || page.Next == after)
            {
                return all;
            }

            after = page.Next;
        }
    }

    public static async Task<List<RouteExecuted>> ExecutionsAsync(IClusterClient client, string tenant) =>
        [.. (await EventsAsync(client, tenant)).Where(e => e.Type == EventTypes.RouteExecuted).Select(e => Executed(e))];

    /// <summary>The route.executed events, once there are at least <paramref name="count"/>.</summary>
    public static Task<List<RouteExecuted>> WaitForExecutionsAsync(IClusterClient client, string tenant, int count, TimeSpan? timeout = null) =>
        Scenario.EventuallyAsync(() => ExecutionsAsync(client, tenant), list => list.Count >= count, $"{count} route executions", timeout ?? TimeSpan.FromSeconds(15));

    /// <summary>The router has passed every event so far and runs nothing: what was going to happen has happened.</summary>
    public static async Task WaitForQuietAsync(IClusterClient client, string tenant)
    {
        var head = (await EventsAsync(client, tenant, "custom.ping", "custom.pong")).LastOrDefault()?.Cursor ?? 0;
        await Scenario.EventuallyAsync(() => client.GetGrain<IRoutingRouterGrain>(tenant).GetStatus(),
            s => s.InFlight == 0 && s.Cursor >= head, "the router to pass every event", TimeSpan.FromSeconds(15));
    }

    public static RouteExecuted Executed(StoredEvent e)
    {
        using var document = System.Text.Json.JsonDocument.Parse(e.DataJson);
        var d = document.RootElement;
        var steps = d.GetProperty("steps").EnumerateArray().Select(s => new RouteStepRecord(
            s.GetProperty("index").GetInt32(), s.GetProperty("action").GetString()!, s.TryGetProperty("target", out var t) ? t.GetString() : null,
            s.GetProperty("outcome").GetString()!, s.GetProperty("attempts").GetInt32(), s.GetProperty("elapsedMs").GetInt64(),
            s.TryGetProperty("error", out var er) ? er.GetString() : null, s.TryGetProperty("httpStatus", out var h) ? h.GetInt32() : null,
            s.TryGetProperty("fuel", out var f) ? f.GetInt64() : null)).ToArray();
        return new RouteExecuted(d.GetProperty("triggerEventId").GetString()!, d.GetProperty("triggerType").GetString()!, d.GetProperty("rulesetHash").GetString()!,
            d.GetProperty("routeId").GetString()!, d.GetProperty("outcome").GetString()!, steps, d.GetProperty("elapsedMs").GetInt64(),
            d.GetProperty("budgetLeftMs").GetInt64(), d.TryGetProperty("conversationId", out var c) ? c.GetString() : null,
            d.TryGetProperty("error", out var err) ? err.GetString() : null);
    }

    /// <summary>The conversation's messages sent by rules (bots).</summary>
    public static async Task<ChatMessage[]> BotMessagesAsync(IConversationGrain conversation, Caller visitor) =>
        [.. (await conversation.GetMessages(visitor, 0, 200)).Ok().Messages.Where(m => m.Sender.Role == ParticipantRole.Bot)];
}
