using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Kefu.Contracts.Events;
using Kefu.Contracts.Messages;
using Kefu.Contracts.Plugins;

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

    /// <summary>Calls the tenant's plugin at the <c>route</c> hook; the deadline and the token bound the call. Never throws for a guest failure.</summary>
    Task<PluginCallResult> CallPluginAsync(string plugin, string inputJson, DateTimeOffset deadline, CancellationToken token);

    /// <summary>
    /// Sets one attribute of the event's contact: <paramref name="contactId"/>, else the contact of the conversation's
    /// visitor; nothing (not an error) when there is no contact.
    /// </summary>
    Task<KefuError?> SetAttributeAsync(string? contactId, string? conversationId, string key, string value, CancellationToken token);

    /// <summary>Appends a <c>plugin.emitted</c> event with the id <paramref name="eventId"/> (the same on a re-run: stored once).</summary>
    Task<KefuError?> EmitPluginAsync(Ulid eventId, string plugin, string name, string dataJson, string? conversationId, CancellationToken token);
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
        // Values plugin steps `set`, seen by later steps as {plugin.<name>} (after the extracted values of the same name: none, a name has no dot).
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        IReadOnlyDictionary<string, string> extracted = match.Extracted;
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
            var scope = new TemplateScope(extracted, e.Data, last);
            StepResult result;
            try
            {
                result = step is PluginStep plugin
                    ? await RunPluginAsync(route, plugin, e, match.Extracted, values, deadline, actions, stop.Token)
                    : await RunStepAsync(ruleSet, route, step, e, scope, deadline, actions, stop.Token);
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

            if (step is PluginStep && values.Count > 0)
            {
                extracted = WithPluginValues(match.Extracted, values);
            }

            var stepOutcome = result.Outcome;
            if (result.Dropped is { } reason)
            {
                // The plugin stopped the route on purpose: its step succeeded, the rest is skipped, and that is not a failure.
                outcome = RouteOutcomes.Dropped;
                routeError = $"step {step.Index} (plugin {step.Target}) dropped the route: {reason}";
            }
            else if (stepOutcome == RouteOutcomes.Failed && step.OnError == OnError.Continue)
            {
                stepOutcome = RouteOutcomes.FailedContinued;
            }
            else if (stepOutcome is RouteOutcomes.Failed or RouteOutcomes.TimedOut)
            {
                outcome = stepOutcome;
                routeError = $"step {step.Index} ({step.Action}): {result.Error}";
            }

            steps.Add(new RouteStepRecord(step.Index, step.Action, step.Target, stepOutcome, result.Attempts, stepClock.ElapsedMilliseconds, result.Error, result.HttpStatus, result.Fuel));
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

    /// <summary>
    /// A plugin step (docs/plugins.md "Where plugins run"): one call — never retried, a plugin is deterministic — within the
    /// route's deadline (or the step's timeout if earlier) and the route's token, then its actions in the order emitted.
    /// A failed call fails the step like a failed connector call, with the plugin's error code and the fuel it used.
    /// </summary>
    private async Task<StepResult> RunPluginAsync(RouteSpec route, PluginStep step, RoutingEvent e, IReadOnlyDictionary<string, string> extracted,
        Dictionary<string, string> values, DateTimeOffset deadline, IRouteActions actions, CancellationToken token)
    {
        var now = time.GetUtcNow();
        var callDeadline = step.Timeout is { } limit && now + limit < deadline ? now + limit : deadline;
        var result = await actions.CallPluginAsync(step.Plugin, PluginStepInput.Compose(e, extracted, values), callDeadline, token);
        if (!result.Ok)
        {
            // Out of the route's own time (not the plugin's manifest limit): the route timed out, as with a connector.
            var routeOutOfTime = token.IsCancellationRequested
                || (result.ErrorCode is PluginErrorCodes.Timeout or PluginErrorCodes.Cancelled or PluginErrorCodes.Busy && time.GetUtcNow() >= deadline);
            return new StepResult(routeOutOfTime ? RouteOutcomes.TimedOut : RouteOutcomes.Failed, 1, null, $"{result.ErrorCode}: {result.Reason}", null) { Fuel = result.FuelUsed };
        }

        var replies = 0;
        for (var i = 0; i < result.Actions.Length; i++)
        {
            var action = result.Actions[i];
            using var json = JsonDocument.Parse(action.Json);
            var root = json.RootElement;
            KefuError? error = null;
            switch (action.Kind)
            {
                case PluginActionKinds.Drop:
                    return new StepResult(RouteOutcomes.Succeeded, 1, null, null, null)
                    {
                        Fuel = result.FuelUsed,
                        Dropped = root.TryGetProperty("reason", out var why) && why.ValueKind == JsonValueKind.String ? why.GetString() : "no reason given",
                    };
                case PluginActionKinds.Set:
                    values[root.GetProperty("name").GetString()!] = root.GetProperty("value").GetString()!;
                    break;
                case PluginActionKinds.Emit:
                    var data = root.TryGetProperty("data", out var d) ? d.GetRawText() : "{}";
                    error = await actions.EmitPluginAsync(EventIdFor(e, route.Id, $"plugin:{step.Index}:{i}"), step.Plugin, root.GetProperty("name").GetString()!, data, e.ConversationId, token);
                    break;
                case PluginActionKinds.SetAttribute:
                    error = await actions.SetAttributeAsync(ContactOf(e), e.ConversationId, root.GetProperty("key").GetString()!, root.GetProperty("value").GetString()!, token);
                    break;
                case PluginActionKinds.Tag when e.ConversationId is { } conversationId:
                    error = await actions.TagAsync(conversationId, [root.GetProperty("tag").GetString()!], token);
                    break;
                case PluginActionKinds.Reply when e.ConversationId is { } conversationId:
                    // Like reply_template: the same id on a re-run (one per reply of the step), so the conversation stores it once.
                    var key = StepKey(e.EventId, replies == 0 ? route.Id : $"{route.Id}#{replies}", step.Index);
                    replies++;
                    error = await actions.ReplyAsync(conversationId, key, root.GetProperty("text").GetString()!, token);
                    break;
                case PluginActionKinds.Tag or PluginActionKinds.Reply:
                    error = KefuError.Invalid("the event has no conversation");
                    break;
                default:
                    break; // replace_text/redact are refused at this hook by the output reader
            }

            if (error is not null)
            {
                return new StepResult(RouteOutcomes.Failed, 1, null, $"action {i} ({action.Kind}): {error.Code}: {error.Message}", null) { Fuel = result.FuelUsed };
            }
        }

        return new StepResult(RouteOutcomes.Succeeded, 1, null, null, null) { Fuel = result.FuelUsed };
    }

    /// <summary>An inbound event's contact (the sender named it), if any.</summary>
    private static string? ContactOf(RoutingEvent e) =>
        e.Type == EventTypes.InboundReceived && e.EnvelopeData.ValueKind == JsonValueKind.Object
        && e.EnvelopeData.TryGetProperty("contactId", out var contact) && contact.ValueKind == JsonValueKind.String ? contact.GetString() : null;

    private static Dictionary<string, string> WithPluginValues(IReadOnlyDictionary<string, string> extracted, Dictionary<string, string> values)
    {
        var merged = new Dictionary<string, string>(extracted, StringComparer.Ordinal);
        foreach (var (name, value) in values)
        {
            merged["plugin." + name] = value;
        }

        return merged;
    }

    private static RouteStepRecord Skipped(StepSpec step) => new(step.Index, step.Action, step.Target, RouteOutcomes.Skipped, 0, 0);

    private static RouteExecuted Record(RoutingEvent e, string hash, RouteSpec route, string outcome, List<RouteStepRecord> steps, Stopwatch clock, long leftMs, string? error) =>
        Telemetry.KefuMetrics.Counted(new(e.EventId, e.Name, hash, route.Id, outcome, [.. steps], clock.ElapsedMilliseconds, leftMs, e.ConversationId, error));

    private sealed record StepResult(string Outcome, int Attempts, int? HttpStatus, string? Error, JsonElement? Response)
    {
        /// <summary>A plugin step: the fuel its call used.</summary>
        public long? Fuel { get; init; }

        /// <summary>A plugin step that asked to drop the route: its reason.</summary>
        public string? Dropped { get; init; }

        public static StepResult Fail(string error) => new(RouteOutcomes.Failed, 0, null, error, null);

        public static StepResult Of(KefuError? error) => error is null
            ? new(RouteOutcomes.Succeeded, 1, null, null, null)
            : new(RouteOutcomes.Failed, 1, null, $"{error.Code}: {error.Message}", null);
    }
}
