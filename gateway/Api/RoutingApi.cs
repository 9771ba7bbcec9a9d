using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Auth;
using Kefu.Grains.Routing;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kefu.Gateway.Api;

/// <summary>
/// Routing rules (issue #15, INTEGRATION.md §6, docs/routing.md, docs/integration.md "Routing rules API"), admins only:
/// <c>GET/PUT /api/v1/routing</c> (the tenant's YAML text, set durably for the whole cluster through
/// <see cref="IRoutingRulesGrain"/>), <c>POST /api/v1/routing/dry-run</c> (what the rules would do with an event, planned
/// here in the gateway with <see cref="RoutePlanner"/>: nothing is executed and no grain but the rules' is called) and
/// <c>GET /api/v1/routing/executions</c> (the recent <c>route.executed</c> records).
/// </summary>
public static class RoutingApi
{
    /// <summary>A ruleset that does not compile: 400 with every problem's line and column in <c>errors</c>.</summary>
    public const string InvalidRouting = "invalid_routing";

    public const int DefaultExecutions = 50;
    public const int MaxExecutions = 500;
    public const int MaxEventTypeLength = 128;

    /// <summary>Media types a ruleset is accepted in (YAML has several in use; text/plain is what many tools send).</summary>
    public static readonly string[] YamlMediaTypes = ["application/yaml", "text/yaml", "application/x-yaml", "text/plain"];

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private static readonly string[] ExecutionOutcomes = [RouteOutcomes.Succeeded, RouteOutcomes.Failed, RouteOutcomes.TimedOut, RouteOutcomes.Dropped];

    /// <summary>The rules in force, compiled, for dry runs (see <see cref="CompiledCurrent"/>).</summary>
    private static RuleSet? _current;

    public static IEndpointRouteBuilder MapRoutingApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/routing").WithTags("routing").RequireAuthorization(KefuPolicies.Admin);
        group.MapGet("/", GetAsync);
        group.MapPut("/", (HttpRequest request, ClaimsPrincipal user, IGrainFactory grains, CancellationToken cancellationToken) =>
                PutAsync(request, user, grains, cancellationToken))
            .Accepts<string>(YamlMediaTypes[0], YamlMediaTypes[1..])
            .Produces<RoutingSetResponse>()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .WithDescription("Replaces the tenant's routing rules with the YAML body if it compiles (docs/routing.md). A ruleset with " +
                $"problems is refused with 400 `{InvalidRouting}` whose `errors` list each problem's `line`, `column` and `message` " +
                "(the first also in `detail`), and the rules in force stay. The same text again answers `unchanged: true`.");
        group.MapPost("/dry-run", DryRunAsync)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .WithDescription("What the rules (the tenant's, or `rules` given here) would do with an event: the routes that match, " +
                "each step's planned call (method, URL, body) and rendered reply, or the variables known only at run time. " +
                "Nothing is executed: no call, no message, no record.");
        group.MapGet("/executions", ExecutionsAsync)
            .WithDescription("The tenant's recent route executions, newest first: each `route.executed` event's data with its id and time.");
        return app;
    }

    private static async Task<Results<Ok<RoutingRulesDto>, ProblemHttpResult>> GetAsync(ClaimsPrincipal user, IGrainFactory grains) =>
        await grains.GetGrain<IRoutingRulesGrain>(user.ToCaller().Tenant).Get() is { } rules
            ? TypedResults.Ok(RoutingRulesDto.From(rules))
            : NoRules();

    private static async Task<IResult> PutAsync(HttpRequest request, ClaimsPrincipal user, IGrainFactory grains, CancellationToken cancellationToken)
    {
        if (!IsYaml(request.ContentType))
        {
            return Problems.Create(StatusCodes.Status415UnsupportedMediaType, Problems.DefaultCode(StatusCodes.Status415UnsupportedMediaType),
                $"The body must be the YAML text, content-type {string.Join(", ", YamlMediaTypes)}.");
        }

        var (body, tooLarge) = await JsonBody.ReadAsync(request, RoutingLimits.MaxTextBytes, cancellationToken);
        if (tooLarge is not null)
        {
            return tooLarge;
        }

        if (!TryDecode(body!, out var text))
        {
            return Invalid([new RoutingProblem(0, 0, "The body is not UTF-8 text.")]);
        }

        var caller = user.ToCaller();
        var result = await grains.GetGrain<IRoutingRulesGrain>(caller.Tenant).Set(text, RoutingSources.Api, caller);
        if (result.Problems.Length > 0 || result.Rules is not { } rules)
        {
            return Invalid(result.Problems.Length > 0 ? result.Problems : [new RoutingProblem(0, 0, "The rules were not accepted.")]);
        }

        return TypedResults.Ok(new RoutingSetResponse(rules.Hash, rules.Version, rules.RouteCount, result.Unchanged));
    }

    private static async Task<Results<Ok<DryRunResponse>, ProblemHttpResult>> DryRunAsync(
        DryRunRequest? request, ClaimsPrincipal user, IGrainFactory grains, TimeProvider time)
    {
        if (request?.Event is not { } input)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, ErrorCodes.MissingField, "event is required: {\"type\", \"data\"?, \"conversationId\"?, \"text\"?}.");
        }

        if (string.IsNullOrEmpty(input.Type))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, ErrorCodes.MissingField, "event.type is required: an inbound type (e.g. order_status) or an event type.");
        }

        if (input.Type.Length > MaxEventTypeLength)
        {
            return Problems.Invalid($"event.type must be at most {MaxEventTypeLength} characters.");
        }

        if (input.Data is { } data && data.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null or JsonValueKind.Undefined))
        {
            return Problems.Invalid("event.data must be a JSON object.");
        }

        var tenant = user.ToCaller().Tenant;
        RuleSet ruleSet;
        if (request.Rules is { } rules)
        {
            if (Encoding.UTF8.GetByteCount(rules) > RoutingLimits.MaxTextBytes)
            {
                return Problems.Create(StatusCodes.Status413PayloadTooLarge, JsonBody.PayloadTooLarge, $"rules must be at most {RoutingLimits.MaxTextBytes} bytes.");
            }

            var compilation = RuleSetCompiler.Compile(rules);
            if (compilation.RuleSet is null || compilation.Problems.Length > 0)
            {
                return Invalid(compilation.Problems.Length > 0 ? compilation.Problems : [new RoutingProblem(0, 0, "The rules do not compile.")]);
            }

            ruleSet = compilation.RuleSet;
        }
        else if (await grains.GetGrain<IRoutingRulesGrain>(tenant).Get() is { } current)
        {
            ruleSet = CompiledCurrent(current);
        }
        else
        {
            return NoRules();
        }

        var now = time.GetUtcNow();
        var dataJson = input.Data is { ValueKind: JsonValueKind.Object } d ? d.GetRawText() : "{}";
        var routingEvent = RoutingEvent.Synthetic(tenant, input.Type, dataJson, input.ConversationId, input.Text, now);
        if (input.Inbox is { } inbox)
        {
            routingEvent = routingEvent with { Inbox = inbox };
        }

        var facts = new RoutingFacts(now, await BusinessHoursAsync(grains, tenant));
        var plan = RoutePlanner.Plan(ruleSet, routingEvent, facts);
        return TypedResults.Ok(new DryRunResponse(
            ruleSet.Hash,
            new DryRunEventDto(routingEvent.EventId, routingEvent.Name, routingEvent.Type, routingEvent.ConversationId, routingEvent.Text, routingEvent.Inbox),
            [.. plan.Routes.Select(DryRunRouteDto.From)]));
    }

    private static async Task<Results<Ok<RoutingExecutionsResponse>, ProblemHttpResult>> ExecutionsAsync(
        int? limit, string? route, string? outcome, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (limit is < 1 or > MaxExecutions)
        {
            return Problems.Invalid($"limit must be from 1 to {MaxExecutions}.");
        }

        if (outcome is not null && !ExecutionOutcomes.Contains(outcome))
        {
            return Problems.Invalid($"outcome must be one of {string.Join(", ", ExecutionOutcomes)}.");
        }

        if (route is { Length: 0 or > MaxEventTypeLength })
        {
            return Problems.Invalid($"route must be a route id of 1 to {MaxEventTypeLength} characters.");
        }

        var records = await grains.GetGrain<IRoutingExecutionLogGrain>(user.ToCaller().Tenant).Recent(limit ?? DefaultExecutions, route, outcome);
        return TypedResults.Ok(new RoutingExecutionsResponse([.. records.Select(RouteExecutionDto.From)]));
    }

    /// <summary>
    /// The current rules compiled once per hash in this process: a dry run against the rules in force should not pay
    /// for parsing the whole file each time (the text is immutable per hash, so the cached form never goes stale).
    /// </summary>
    private static RuleSet CompiledCurrent(RoutingRules rules)
    {
        if (_current is { } cached && cached.Hash == rules.Hash)
        {
            return cached;
        }

        // The grain accepted this text, so it compiles; a compiler that changed since (another version) is still answered.
        var compiled = RuleSetCompiler.Compile(rules.Text).RuleSet
            ?? new RuleSet(1, RoutingDefaults.Standard, new Dictionary<string, ConnectorSpec>(), new Dictionary<string, IntentSpec>(), [], rules.Hash);
        _current = compiled;
        return compiled;
    }

    /// <summary><c>business_hours</c> conditions ask the tenant's inboxes (an inbox without hours is always open).</summary>
    private static async Task<Func<string, DateTimeOffset, bool>> BusinessHoursAsync(IGrainFactory grains, string tenant)
    {
        var inboxes = (await grains.GetGrain<ITenantGrain>(tenant).ListInboxes()).ToDictionary(i => i.InboxId, StringComparer.Ordinal);
        return (inboxId, at) => inboxes.TryGetValue(inboxId, out var inbox) && (inbox.BusinessHours is not { } hours || hours.IsOpen(at));
    }

    private static bool IsYaml(string? contentType)
    {
        if (contentType is null)
        {
            return false;
        }

        var mediaType = contentType.Split(';', 2)[0].Trim();
        return YamlMediaTypes.Any(t => string.Equals(t, mediaType, StringComparison.OrdinalIgnoreCase));
    }

    private static bool TryDecode(byte[] body, out string text)
    {
        try
        {
            // A BOM (some editors write one) is not part of the rules.
            var start = body.AsSpan().StartsWith("\uFEFF"u8) ? 3 : 0;
            text = StrictUtf8.GetString(body, start, body.Length - start);
            return true;
        }
        catch (DecoderFallbackException)
        {
            text = string.Empty;
            return false;
        }
    }

    /// <summary>400 <c>invalid_routing</c>: every problem in <c>errors</c>, the first in <c>detail</c> as <c>line:column: message</c>.</summary>
    public static ProblemHttpResult Invalid(IReadOnlyList<RoutingProblem> problems) =>
        TypedResults.Problem(
            detail: $"{problems[0].Line}:{problems[0].Column}: {problems[0].Message}",
            statusCode: StatusCodes.Status400BadRequest,
            extensions: new Dictionary<string, object?>
            {
                ["code"] = InvalidRouting,
                ["errors"] = problems.Select(p => new RoutingProblemDto(p.Line, p.Column, p.Message)).ToArray(),
            });

    private static ProblemHttpResult NoRules() => Problems.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "No routing rules are set for this tenant (PUT /api/v1/routing sets them).");
}

public sealed record RoutingRulesDto(string Text, string Hash, string Source, long Version, DateTimeOffset UpdatedAt, string? UpdatedBy, int Routes)
{
    public static RoutingRulesDto From(RoutingRules r) => new(r.Text, r.Hash, r.Source, r.Version, r.UpdatedAt, r.UpdatedBy, r.RouteCount);
}

public sealed record RoutingSetResponse(string Hash, long Version, int Routes, bool Unchanged);

public sealed record RoutingProblemDto(int Line, int Column, string Message);

/// <summary><see cref="Rules"/>: YAML to try instead of the rules in force (not saved).</summary>
public sealed record DryRunRequest(DryRunEventInput? Event, string? Rules);

/// <summary>
/// The event to try: <see cref="Type"/> an inbound type (then <see cref="Data"/> is the sender's data) or an event type
/// (<c>message.created</c> from a visitor with <see cref="Text"/>); <see cref="Inbox"/> for <c>business_hours</c>.
/// </summary>
public sealed record DryRunEventInput(string? Type, JsonElement? Data, string? ConversationId, string? Text, string? Inbox);

public sealed record DryRunResponse(string Hash, DryRunEventDto Event, DryRunRouteDto[] Routes);

/// <summary>The synthetic event as the rules saw it; <see cref="Name"/> is what <c>on</c>/<c>match</c> compare with.</summary>
public sealed record DryRunEventDto(string Id, string Name, string Type, string? ConversationId, string? Text, string? Inbox);

public sealed record DryRunRouteDto(string Id, int Priority, IReadOnlyDictionary<string, string> Extracted, long BudgetMs, DryRunStepDto[] Steps)
{
    public static DryRunRouteDto From(PlannedRoute r) => new(r.RouteId, r.Priority, r.Extracted, r.BudgetMs, [.. r.Steps.Select(DryRunStepDto.From)]);
}

/// <summary><see cref="Body"/>: the JSON a call would send; <see cref="Text"/>: a reply as rendered; <see cref="Unresolved"/>: known only at run time.</summary>
public sealed record DryRunStepDto(
    int Index, string Action, string? Target, string? Method, string? Url, JsonElement? Body, string? Text, IReadOnlyList<string> Unresolved, int Attempts, long? TimeoutMs)
{
    public static DryRunStepDto From(PlannedStep s) =>
        new(s.Index, s.Action, s.Target, s.Method, s.Url, Json(s.BodyJson), s.Text, s.Unresolved, s.Attempts, s.TimeoutMs);

    private static JsonElement? Json(string? json)
    {
        if (json is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            // Not JSON after all: shown as the text it is rather than hidden.
            return JsonSerializer.SerializeToElement(json);
        }
    }
}

public sealed record RoutingExecutionsResponse(RouteExecutionDto[] Executions);

/// <summary>A <c>route.executed</c> event's data (docs/integration.md) with the event's <see cref="Id"/> and <see cref="Time"/>.</summary>
public sealed record RouteExecutionDto(
    string Id,
    DateTimeOffset Time,
    string TriggerEventId,
    string TriggerType,
    string RulesetHash,
    string RouteId,
    string Outcome,
    string? ConversationId,
    string? Error,
    long ElapsedMs,
    long BudgetLeftMs,
    RouteStepDto[] Steps)
{
    public static RouteExecutionDto From(RouteExecutionRecord record)
    {
        var e = record.Execution;
        return new(record.EventId, record.Time, e.TriggerEventId, e.TriggerType, e.RulesetHash, e.RouteId, e.Outcome, e.ConversationId, e.Error,
            e.ElapsedMs, e.BudgetLeftMs, [.. e.Steps.Select(s => new RouteStepDto(s.Index, s.Action, s.Target, s.Outcome, s.Attempts, s.ElapsedMs, s.Error, s.HttpStatus))]);
    }
}

public sealed record RouteStepDto(int Index, string Action, string? Target, string Outcome, int Attempts, long ElapsedMs, string? Error, int? HttpStatus);
