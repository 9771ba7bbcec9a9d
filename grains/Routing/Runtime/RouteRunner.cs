using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Kefu.Contracts.Events;
using Kefu.Contracts.Messages;

namespace Kefu.Grains.Routing.Runtime;

/// <summary>
/// What a route's actions do to the world (conversations, the event log); <see cref="ConversationRouteActions"/> acts
/// through the ordinary grain commands as the rule's caller. Each takes the route's token: at the deadline the route
/// stops waiting.
/// </summary>
public interface IRouteActions
{
    Task<KefuError?> ReplyAsync(string conversationId, string clientMsgId, string text, CancellationToken token);

    Task<KefuError?> AssignAsync(string conversationId, string? team, string? agent, CancellationToken token);

    Task<KefuError?> TagAsync(string conversationId, IReadOnlyList<string> tags, CancellationToken token);

    Task<KefuError?> PriorityAsync(string conversationId, string priority, CancellationToken token);

    Task<KefuError?> StatusAsync(string conversationId, string status, CancellationToken token);

    /// <summary>Appends a <c>custom.*</c> event with the id <paramref name="eventId"/> (the same on a re-run: stored once).</summary>
    Task<KefuError?> EmitAsync(Ulid eventId, string type, string dataJson, string? conversationId, CancellationToken token);
}

/// <summary>
/// Runs one matched route for one event (docs/routing.md "Execution"): its steps in order within one budget —
/// min(route timeout or the defaults' deadline, the event's own deadline − now) — enforced by one
/// <see cref="CancellationTokenSource"/> that every call and grain call gets. A failed step stops the route unless it says
/// <c>on_error: continue</c>; a step that runs out of time ends it as <c>timed_out</c>; steps not run are <c>skipped</c>.
/// Plain class: unit-tested with fake actions and a loopback connector.
/// </summary>
public sealed class RouteRunner(RoutingConnector connector, TimeProvider time)
{
    public async Task<RouteExecuted> RunAsync(RuleSet ruleSet, RouteMatch match, RoutingEvent e, string rulesetHash, IRouteActions actions)
    {
        ArgumentNullException.ThrowIfNull(ruleSet);
        ArgumentNullException.ThrowIfNull(match);
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(actions);
        var route = match.Route;
        var start = time.GetUtcNow();
        var clock = Stopwatch.StartNew();
        var budget = Budget(ruleSet, route, e, start);
        var deadline = start + budget;
        var steps = new List<RouteStepRecord>(route.Actions.Count);
        if (budget <= TimeSpan.Zero)
        {
            steps.AddRange(route.Actions.Select(s => Skipped(s)));
            return Record(e, rulesetHash, route, RouteOutcomes.TimedOut, steps, clock, 0, "the event's deadline had passed");
        }

        using var stop = new CancellationTokenSource(budget, time);
        var outcome = RouteOutcomes.Succeeded;
        string? routeError = null;
        JsonElement? last = null;
        foreach (var step in route.Actions)
        {
            if (outcome != RouteOutcomes.Succeeded)
            {
                steps.Add(Skipped(step));
                continue;
            }

            if (stop.IsCancellationRequested || deadline - time.GetUtcNow() <= TimeSpan.Zero)
            {
                outcome = RouteOutcomes.TimedOut;
                routeError = $"no time left for step {step.Index}";
                steps.Add(Skipped(step));
                continue;
            }

            var stepClock = Stopwatch.StartNew();
            var scope = new TemplateScope(match.Extracted, e.Data, last);
            StepResult result;
            try
            {
                result = await RunStepAsync(ruleSet, route, step, e, scope, deadline, actions, stop.Token);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                result = new StepResult(RouteOutcomes.TimedOut, 1, null, "the route's deadline passed", null);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // A grain call that failed (silo lost, …): this step failed; the record says why.
                result = new StepResult(RouteOutcomes.Failed, 1, null, ex.GetType().Name + ": " + ex.Message, null);
            }

            if (result.Response is { } response)
            {
                last = response;
            }

            var stepOutcome = result.Outcome;
            if (stepOutcome == RouteOutcomes.Failed && step.OnError == OnError.Continue)
            {
                stepOutcome = RouteOutcomes.FailedContinued;
            }
            else if (stepOutcome is RouteOutcomes.Failed or RouteOutcomes.TimedOut)
            {
                outcome = stepOutcome;
                routeError = $"step {step.Index} ({step.Action}): {result.Error}";
            }

            steps.Add(new RouteStepRecord(step.Index, step.Action, step.Target, stepOutcome, result.Attempts, stepClock.ElapsedMilliseconds, result.Error, result.HttpStatus));
        }

        var left = (long)Math.Max(0, (deadline - time.GetUtcNow()).TotalMilliseconds);
        return Record(e, rulesetHash, route, outcome, steps, clock, left, routeError);
    }

    /// <summary>The route's whole budget: its timeout (or the defaults' deadline), no later than the event's own deadline.</summary>
    public static TimeSpan Budget(RuleSet ruleSet, RouteSpec route, RoutingEvent e, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(ruleSet);
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(e);
        var budget = route.Timeout ?? ruleSet.Defaults.Deadline;
        if (e.Deadline is { } eventDeadline && eventDeadline - now < budget)
        {
            budget = eventDeadline - now;
        }

        return budget;
    }

    /// <summary>Deterministic per event, route and step: a re-run sends the same key (the receiver drops the repeat).</summary>
    public static string StepKey(string eventId, string routeId, int index)
    {
        var key = $"{eventId}:{routeId}:{index}";
        if (key.Length <= 64)
        {
            return key;
        }

        var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(routeId)))[..16];
        return $"{eventId}:{digest}:{index}";
    }

    /// <summary>A ULID for an event the route causes, the same on every run of the route for this event (stored once).</summary>
    public static Ulid EventIdFor(RoutingEvent trigger, string routeId, string what)
    {
        ArgumentNullException.ThrowIfNull(trigger);
        var random = SHA256.HashData(Encoding.UTF8.GetBytes($"{trigger.EventId}:{routeId}:{what}"));
        return Ulid.NewUlid(trigger.Time, random.AsSpan(0, 10));
    }

    private async Task<StepResult> RunStepAsync(RuleSet ruleSet, RouteSpec route, StepSpec step, RoutingEvent e, TemplateScope scope, DateTimeOffset deadline, IRouteActions actions, CancellationToken token)
    {
        switch (step)
        {
            case CallStep call:
            {
                if (!ruleSet.Connectors.TryGetValue(call.Connector, out var spec))
                {
                    return StepResult.Fail($"no connector {call.Connector}");
                }

                var stepTimeout = step.Timeout ?? spec.Timeout ?? ruleSet.Defaults.StepTimeout;
                var retry = step.Retry ?? route.Retry ?? ruleSet.Defaults.Retry;
                var body = e.Data.ValueKind == JsonValueKind.Undefined ? "{}" : e.Data.GetRawText();
                var request = new CallRequest(spec, call.Operation, scope, body, e.EventId, StepKey(e.EventId, route.Id, step.Index), stepTimeout, retry, deadline);
                var result = await connector.CallAsync(request, token);
                return new StepResult(result.Outcome, result.Attempts, result.HttpStatus, result.Error, result.Response);
            }

            case EmitStep emit:
            {
                var json = new System.Buffers.ArrayBufferWriter<byte>(256);
                using (var writer = new Utf8JsonWriter(json))
                {
                    writer.WriteStartObject();
                    foreach (var (name, template) in emit.Data)
                    {
                        var rendered = template.Render(scope);
                        if (!rendered.Succeeded)
                        {
                            return StepResult.Fail($"missing variable {rendered.Missing}");
                        }

                        writer.WriteString(name, rendered.Text);
                    }

                    writer.WriteEndObject();
                }

                var id = EventIdFor(e, route.Id, "emit:" + step.Index);
                return StepResult.Of(await actions.EmitAsync(id, emit.Type, Encoding.UTF8.GetString(json.WrittenSpan), e.ConversationId, token));
            }
        }

        if (e.ConversationId is not { } conversationId)
        {
            return StepResult.Fail("the event has no conversation");
        }

        switch (step)
        {
            case ReplyTemplateStep reply:
                var text = reply.Template.Render(scope);
                return text.Succeeded
                    ? StepResult.Of(await actions.ReplyAsync(conversationId, StepKey(e.EventId, route.Id, step.Index), text.Text!, token))
                    : StepResult.Fail($"missing variable {text.Missing}");
            case AssignStep assign:
                return StepResult.Of(await actions.AssignAsync(conversationId, assign.Team, assign.Agent, token));
            case TagStep tag:
                return StepResult.Of(await actions.TagAsync(conversationId, tag.Tags, token));
            case PriorityStep priority:
                return StepResult.Of(await actions.PriorityAsync(conversationId, priority.Priority, token));
            case StatusStep status:
                return StepResult.Of(await actions.StatusAsync(conversationId, status.Status, token));
            default:
                return StepResult.Fail($"unknown action {step.Action}");
        }
    }

    private static RouteStepRecord Skipped(StepSpec step) => new(step.Index, step.Action, step.Target, RouteOutcomes.Skipped, 0, 0);

    private static RouteExecuted Record(RoutingEvent e, string hash, RouteSpec route, string outcome, List<RouteStepRecord> steps, Stopwatch clock, long leftMs, string? error) =>
        new(e.EventId, e.Name, hash, route.Id, outcome, [.. steps], clock.ElapsedMilliseconds, leftMs, e.ConversationId, error);

    private sealed record StepResult(string Outcome, int Attempts, int? HttpStatus, string? Error, JsonElement? Response)
    {
        public static StepResult Fail(string error) => new(RouteOutcomes.Failed, 0, null, error, null);

        public static StepResult Of(KefuError? error) => error is null
            ? new(RouteOutcomes.Succeeded, 1, null, null, null)
            : new(RouteOutcomes.Failed, 1, null, $"{error.Code}: {error.Message}", null);
    }
}
