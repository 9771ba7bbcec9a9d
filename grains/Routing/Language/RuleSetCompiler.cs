using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Kefu.Grains.Routing;

/// <summary>
/// YAML text → <see cref="RuleSet"/> (docs/routing.md). Strict: an unknown key, a wrong type, a dangling connector or
/// intent reference, an invalid regex or duration is a <see cref="RoutingProblem"/> with line and column; a ruleset with
/// any problem does not compile.
/// </summary>
public static class RuleSetCompiler
{
    public static RuleSetCompilation Compile(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new RuleSetBuilder(text).Build();
    }

    /// <summary>Lower-case hex SHA-256 of the UTF-8 text: the ruleset's name in every record.</summary>
    public static string HashOf(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}

/// <summary>The compiled ruleset, or its problems (then <see cref="RuleSet"/> is null).</summary>
public sealed record RuleSetCompilation(RuleSet? RuleSet, RoutingProblem[] Problems);

/// <summary>One compilation: walks the YAML representation (which keeps every node's line and column) and collects problems.</summary>
internal sealed partial class RuleSetBuilder(string text)
{
    // Regexes run on every listened event: NonBacktracking makes matching linear in the input (a hostile pattern cannot
    // stall a silo); IgnoreCase + the event text folded to half-width make Latin and full-width text match alike.
    internal const RegexOptions PatternOptions = RegexOptions.NonBacktracking | RegexOptions.CultureInvariant | RegexOptions.IgnoreCase;
    private const int MaxPatternLength = 2000;

    private static readonly string[] RootKeys = ["version", "defaults", "connectors", "intents", "routes"];
    private static readonly string[] DefaultsKeys = ["mode", "deadline", "step_timeout", "retry"];
    private static readonly string[] RetryKeys = ["retries", "base_delay", "max_delay"];
    private static readonly string[] ConnectorKeys = ["kind", "baseUrl", "auth", "timeout", "operations", "description"];
    private static readonly string[] AuthKeys = ["header", "secret", "prefix"];
    private static readonly string[] OperationKeys = ["method", "path"];
    private static readonly string[] IntentKeys = ["keywords", "regex", "description"];
    private static readonly string[] RouteKeys = ["id", "priority", "on", "match", "when", "extract", "actions", "timeout", "retry", "continue", "once_per", "cooldown", "description"];
    private static readonly string[] ExtractKeys = ["path", "regex", "group"];
    private static readonly string[] ActionKeys = ["call", "reply_template", "assign", "tag", "priority", "status", "emit", "plugin"];
    private static readonly string[] StepKeys = ["call", "reply_template", "assign", "tag", "priority", "status", "emit", "plugin", "timeout", "retry", "on_error"];
    private static readonly string[] AssignKeys = ["team", "agent"];
    private static readonly string[] EmitKeys = ["type", "data"];
    private static readonly string[] Operators = ["all", "any", "not", "eq", "ne", "in", "contains", "regex", "keywords", "exists", "gt", "lt", "business_hours", "intent"];
    private static readonly string[] Methods = ["GET", "POST", "PUT", "PATCH", "DELETE"];
    private static readonly string[] EventFamilies = ["conversation.", "message.", "note.", "contact.", "route.", "custom.", "inbound.", "plugin."];

    private readonly List<RoutingProblem> problems = [];
    private RoutingDefaults defaults = RoutingDefaults.Standard;
    private readonly Dictionary<string, ConnectorSpec> connectors = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IntentSpec> intents = new(StringComparer.Ordinal);
    private IntentGate? intentGate;

    public RuleSetCompilation Build()
    {
        var root = Load();
        if (root is null)
        {
            return Fail();
        }

        if (root is not YamlMappingNode mapping)
        {
            Problem(root, "expected a mapping with `routes:` (and optionally version, defaults, connectors, intents)");
            return Fail();
        }

        var entries = Entries(mapping, RootKeys, "the ruleset");
        var version = 1;
        if (entries.TryGetValue("version", out var versionNode) && Int(versionNode, "version", 1, 1) is { } v)
        {
            version = v;
        }

        if (entries.TryGetValue("defaults", out var defaultsNode))
        {
            ParseDefaults(defaultsNode);
        }

        if (entries.TryGetValue("connectors", out var connectorsNode))
        {
            ParseConnectors(connectorsNode);
        }

        if (entries.TryGetValue("intents", out var intentsNode))
        {
            ParseIntents(intentsNode);
            intentGate = IntentGate.Create([.. intents.Values.SelectMany(i => i.Patterns)], PatternOptions);
        }

        var routes = new List<RouteSpec>();
        if (!entries.TryGetValue("routes", out var routesNode))
        {
            Problem(mapping, "missing `routes:` (a list of routes; `routes: []` for none)");
        }
        else if (routesNode is YamlSequenceNode sequence)
        {
            var ids = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
            var position = 0;
            foreach (var item in sequence)
            {
                position++;
                if (ParseRoute(item, position) is { } route)
                {
                    if (ids.TryAdd(route.Id, item))
                    {
                        routes.Add(route);
                    }
                    else
                    {
                        Problem(item, $"duplicate route id '{route.Id}' (first at line {Line(ids[route.Id])})");
                    }
                }
            }
        }
        else if (!IsNull(routesNode))
        {
            Problem(routesNode, "`routes` must be a list (each item starting with `- `)");
        }

        if (problems.Count > 0)
        {
            return Fail();
        }

        // Evaluation order: priority descending, then file order (OrderBy is stable).
        var ordered = routes.Select((route, index) => (route, index)).OrderByDescending(p => p.route.Priority).ThenBy(p => p.index).Select(p => p.route).ToArray();
        var listened = new HashSet<string>(ordered.SelectMany(r => r.On), StringComparer.Ordinal);
        var ruleSet = new RuleSet(version, defaults, connectors, intents, ordered, RuleSetCompiler.HashOf(text)) { ListenedNames = listened };
        return new RuleSetCompilation(ruleSet, []);
    }

    private RuleSetCompilation Fail() => new(null, [.. problems.OrderBy(p => p.Line).ThenBy(p => p.Column)]);

    private YamlNode? Load()
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            problems.Add(new RoutingProblem(0, 0, "the ruleset is empty: expected a mapping with `routes:`"));
            return null;
        }

        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            // YamlDotNet's messages start with "(Line: …)"; the line and column are ours to print.
            var message = e.InnerException is YamlException inner ? inner.Message : e.Message;
            problems.Add(new RoutingProblem((int)e.Start.Line, (int)e.Start.Column, "invalid YAML: " + StripMark(message)));
            return null;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException)
        {
            // Whatever else the parser throws on odd input is the text's problem, not a server error.
            problems.Add(new RoutingProblem(0, 0, "invalid YAML: " + e.Message));
            return null;
        }

        if (stream.Documents.Count == 0)
        {
            problems.Add(new RoutingProblem(0, 0, "the ruleset is empty: expected a mapping with `routes:`"));
            return null;
        }

        if (stream.Documents.Count > 1)
        {
            Problem(stream.Documents[1].RootNode, "expected one YAML document, found more");
            return null;
        }

        var root = stream.Documents[0].RootNode;
        var nodes = 0;
        if (!WithinLimits(root, 0, ref nodes))
        {
            Problem(root, $"the ruleset is too deep or too large: at most {MaxDepth} levels and {MaxNodes} nodes, aliases counted each time they are used");
            return null;
        }

        return root;
    }

    private const int MaxDepth = 64;
    private const int MaxNodes = 200_000;

    /// <summary>
    /// Aliases are shared nodes, not copies: a few lines of anchors can describe a tree of billions of nodes (or a
    /// cycle). Everything after this walks the tree as if expanded, so the expanded size is bounded first.
    /// </summary>
    private static bool WithinLimits(YamlNode node, int depth, ref int nodes)
    {
        if (++nodes > MaxNodes || depth > MaxDepth)
        {
            return false;
        }

        switch (node)
        {
            case YamlMappingNode mapping:
                foreach (var (key, value) in mapping.Children)
                {
                    if (!WithinLimits(key, depth + 1, ref nodes) || !WithinLimits(value, depth + 1, ref nodes))
                    {
                        return false;
                    }
                }

                break;
            case YamlSequenceNode sequence:
                foreach (var item in sequence.Children)
                {
                    if (!WithinLimits(item, depth + 1, ref nodes))
                    {
                        return false;
                    }
                }

                break;
        }

        return true;
    }

    private static string StripMark(string message)
    {
        // "(Line: 3, Col: 5, Idx: 20) - (Line: 3, Col: 6, Idx: 21): Duplicate key" → "Duplicate key"
        var match = MarkPrefix().Match(message);
        return match.Success ? message[match.Length..] : message;
    }

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\):\s*")]
    private static partial Regex MarkPrefix();

    // ---- defaults -------------------------------------------------------------------------------------------------

    private void ParseDefaults(YamlNode node)
    {
        if (Map(node, "defaults") is not { } mapping)
        {
            return;
        }

        var entries = Entries(mapping, DefaultsKeys, "defaults");
        var mode = RouteMode.FirstMatch;
        if (entries.TryGetValue("mode", out var modeNode) && Str(modeNode, "mode") is { } modeText)
        {
            switch (modeText)
            {
                case "first-match":
                    mode = RouteMode.FirstMatch;
                    break;
                case "all":
                    mode = RouteMode.All;
                    break;
                default:
                    Problem(modeNode, $"unknown mode '{modeText}' (expected first-match or all)");
                    break;
            }
        }

        var deadline = entries.TryGetValue("deadline", out var d) ? Duration(d, "deadline") ?? RoutingDefaults.Standard.Deadline : RoutingDefaults.Standard.Deadline;
        var stepTimeout = entries.TryGetValue("step_timeout", out var s) ? Duration(s, "step_timeout") ?? RoutingDefaults.Standard.StepTimeout : RoutingDefaults.Standard.StepTimeout;
        var retry = entries.TryGetValue("retry", out var r) ? Retry(r, RetrySpec.None) ?? RetrySpec.None : RetrySpec.None;
        defaults = new RoutingDefaults(mode, deadline, stepTimeout, retry);
    }

    private RetrySpec? Retry(YamlNode node, RetrySpec basis)
    {
        if (node is YamlScalarNode)
        {
            return Int(node, "retry", 0, 10) is { } n ? basis with { Retries = n } : null;
        }

        if (Map(node, "retry", "a number of retries or a mapping with retries, base_delay, max_delay") is not { } mapping)
        {
            return null;
        }

        var entries = Entries(mapping, RetryKeys, "retry");
        int? retries = null;
        if (!entries.TryGetValue("retries", out var retriesNode))
        {
            Problem(mapping, "missing `retries:` (the retries after the first attempt)");
        }
        else
        {
            retries = Int(retriesNode, "retries", 0, 10);
        }

        var baseDelay = entries.TryGetValue("base_delay", out var b) ? Duration(b, "base_delay") : basis.BaseDelay;
        var maxDelay = entries.TryGetValue("max_delay", out var m) ? Duration(m, "max_delay") : basis.MaxDelay;
        if (retries is null || baseDelay is null || maxDelay is null)
        {
            return null;
        }

        if (maxDelay < baseDelay)
        {
            Problem(mapping, "max_delay is shorter than base_delay");
            return null;
        }

        return new RetrySpec(retries.Value, baseDelay.Value, maxDelay.Value);
    }

    // ---- connectors -----------------------------------------------------------------------------------------------

    private void ParseConnectors(YamlNode node)
    {
        if (Map(node, "connectors", "a mapping of connector names to connectors") is not { } mapping)
        {
            return;
        }

        foreach (var (keyNode, value) in mapping.Children)
        {
            if (Key(keyNode) is not { } name)
            {
                continue;
            }

            if (!IsName(name))
            {
                Problem(keyNode, $"invalid connector name '{name}' (letters, digits, '_' and '-')");
                continue;
            }

            if (ParseConnector(name, value) is { } connector)
            {
                connectors[name] = connector;
            }
        }
    }

    private ConnectorSpec? ParseConnector(string name, YamlNode node)
    {
        if (Map(node, $"connector '{name}'") is not { } mapping)
        {
            return null;
        }

        var entries = Entries(mapping, ConnectorKeys, $"connector '{name}'");
        var ok = true;
        var kind = "http";
        if (entries.TryGetValue("kind", out var kindNode) && Str(kindNode, "kind") is { } kindText)
        {
            if (kindText != "http")
            {
                Problem(kindNode, $"unknown connector kind '{kindText}' (expected http)");
                ok = false;
            }
        }

        Uri? baseUrl = null;
        if (!entries.TryGetValue("baseUrl", out var urlNode))
        {
            Problem(mapping, $"connector '{name}' needs `baseUrl:` (e.g. http://erp.internal:9100)");
            ok = false;
        }
        else if (Str(urlNode, "baseUrl") is { } urlText)
        {
            if (!Uri.TryCreate(urlText, UriKind.Absolute, out baseUrl) || baseUrl.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(baseUrl.Query) || !string.IsNullOrEmpty(baseUrl.Fragment))
            {
                Problem(urlNode, $"baseUrl '{urlText}' is not an absolute http(s) URL without query");
                ok = false;
            }
            else if (!string.IsNullOrEmpty(baseUrl.UserInfo))
            {
                Problem(urlNode, "baseUrl must not hold credentials: use `auth:` with a configuration secret");
                ok = false;
            }
        }
        else
        {
            ok = false;
        }

        ConnectorAuth? auth = null;
        if (entries.TryGetValue("auth", out var authNode))
        {
            auth = ParseAuth(authNode);
            ok &= auth is not null;
        }

        TimeSpan? timeout = null;
        if (entries.TryGetValue("timeout", out var timeoutNode))
        {
            timeout = Duration(timeoutNode, "timeout");
            ok &= timeout is not null;
        }

        if (entries.TryGetValue("description", out var descriptionNode))
        {
            ok &= Str(descriptionNode, "description") is not null;
        }

        var operations = new Dictionary<string, OperationSpec>(StringComparer.Ordinal);
        if (!entries.TryGetValue("operations", out var operationsNode))
        {
            Problem(mapping, $"connector '{name}' needs `operations:` (e.g. updateOrder: {{ method: POST, path: \"/orders/{{order_id}}/sync\" }})");
            ok = false;
        }
        else if (Map(operationsNode, "operations", "a mapping of operation names to { method, path }") is { } operationsMapping)
        {
            foreach (var (keyNode, value) in operationsMapping.Children)
            {
                if (Key(keyNode) is not { } operationName)
                {
                    ok = false;
                    continue;
                }

                if (!IsName(operationName))
                {
                    Problem(keyNode, $"invalid operation name '{operationName}' (letters, digits, '_' and '-')");
                    ok = false;
                    continue;
                }

                if (ParseOperation(operationName, value) is { } operation)
                {
                    operations[operationName] = operation;
                }
                else
                {
                    ok = false;
                }
            }
        }
        else
        {
            ok = false;
        }

        return ok && baseUrl is not null ? new ConnectorSpec(name, kind, baseUrl, auth, operations, timeout, Line(mapping)) : null;
    }

    private ConnectorAuth? ParseAuth(YamlNode node)
    {
        if (Map(node, "auth", "a mapping with header, secret and optionally prefix") is not { } mapping)
        {
            return null;
        }

        var entries = Entries(mapping, AuthKeys, "auth", hint: "secrets are never written in the file: `secret:` names a configuration value Kefu:Routing:Secrets:{name}");
        string? header = null;
        string? secret = null;
        string? prefix = null;
        if (!entries.TryGetValue("header", out var headerNode))
        {
            Problem(mapping, "auth needs `header:` (e.g. Authorization)");
        }
        else if (Str(headerNode, "header") is { } h)
        {
            if (h.Length == 0 || h.Any(c => c <= ' ' || c >= 127 || c == ':'))
            {
                Problem(headerNode, $"invalid header name '{h}'");
            }
            else
            {
                header = h;
            }
        }

        if (!entries.TryGetValue("secret", out var secretNode))
        {
            Problem(mapping, "auth needs `secret:` naming a configuration value Kefu:Routing:Secrets:{name} (never the secret itself)");
        }
        else if (Str(secretNode, "secret") is { } s)
        {
            if (!SecretName().IsMatch(s))
            {
                Problem(secretNode, $"invalid secret reference '{s}': a configuration name of letters, digits, '_', '-' and '.' (the value itself belongs in configuration Kefu:Routing:Secrets:{{name}}, never in this file)");
            }
            else
            {
                secret = s;
            }
        }

        if (entries.TryGetValue("prefix", out var prefixNode))
        {
            prefix = Str(prefixNode, "prefix");
        }

        return header is not null && secret is not null ? new ConnectorAuth(header, secret, prefix) : null;
    }

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,128}$")]
    private static partial Regex SecretName();

    private OperationSpec? ParseOperation(string name, YamlNode node)
    {
        if (Map(node, $"operation '{name}'", "a mapping { method, path }") is not { } mapping)
        {
            return null;
        }

        var entries = Entries(mapping, OperationKeys, $"operation '{name}'");
        string? method = null;
        Template? path = null;
        if (!entries.TryGetValue("method", out var methodNode))
        {
            Problem(mapping, $"operation '{name}' needs `method:` ({string.Join(", ", Methods)})");
        }
        else if (Str(methodNode, "method") is { } m)
        {
            if (!Methods.Contains(m.ToUpperInvariant()))
            {
                Problem(methodNode, $"unknown method '{m}' (expected {string.Join(", ", Methods)})");
            }
            else
            {
                method = m.ToUpperInvariant();
            }
        }

        if (!entries.TryGetValue("path", out var pathNode))
        {
            Problem(mapping, $"operation '{name}' needs `path:` (e.g. \"/orders/{{order_id}}/sync\")");
        }
        else if (Str(pathNode, "path") is { } p)
        {
            if (!p.StartsWith('/'))
            {
                Problem(pathNode, $"path '{p}' must start with '/' (it is appended to the connector's baseUrl)");
            }
            else
            {
                path = TemplateOf(pathNode, p);
            }
        }

        return method is not null && path is not null ? new OperationSpec(name, method, path) : null;
    }

    // ---- intents --------------------------------------------------------------------------------------------------

    private void ParseIntents(YamlNode node)
    {
        if (Map(node, "intents", "a mapping of intent names to { keywords, regex }") is not { } mapping)
        {
            return;
        }

        foreach (var (keyNode, value) in mapping.Children)
        {
            if (Key(keyNode) is not { } name)
            {
                continue;
            }

            if (!IsName(name))
            {
                Problem(keyNode, $"invalid intent name '{name}' (letters, digits, '_' and '-')");
                continue;
            }

            if (Map(value, $"intent '{name}'", "a mapping with keywords and/or regex") is not { } intentMapping)
            {
                continue;
            }

            var entries = Entries(intentMapping, IntentKeys, $"intent '{name}'");
            var keywords = entries.TryGetValue("keywords", out var keywordsNode) ? Keywords(keywordsNode) : [];
            var patterns = new List<Regex>();
            if (entries.TryGetValue("regex", out var regexNode))
            {
                foreach (var (patternNode, pattern) in Strings(regexNode, "regex"))
                {
                    if (CompilePattern(patternNode, pattern) is { } regex)
                    {
                        patterns.Add(regex);
                    }
                }
            }

            if (entries.TryGetValue("description", out var descriptionNode))
            {
                Str(descriptionNode, "description");
            }

            if (keywords.Length == 0 && patterns.Count == 0 && !entries.ContainsKey("regex") && !entries.ContainsKey("keywords"))
            {
                Problem(intentMapping, $"intent '{name}' needs `keywords:` or `regex:`");
                continue;
            }

            intents[name] = new IntentSpec(name, keywords, patterns, Line(intentMapping));
        }
    }

    /// <summary>Keywords folded (half-width, lower case) once, here, so matching only folds the event's text.</summary>
    private string[] Keywords(YamlNode node)
    {
        var keywords = new List<string>();
        foreach (var (keywordNode, keyword) in Strings(node, "keywords"))
        {
            var folded = TextNormalizer.Fold(keyword, lower: true);
            if (folded.Length == 0)
            {
                Problem(keywordNode, "empty keyword (it would match every text)");
                continue;
            }

            keywords.Add(folded);
        }

        return [.. keywords];
    }

    private Regex? CompilePattern(YamlNode node, string pattern)
    {
        if (pattern.Length == 0 || pattern.Length > MaxPatternLength)
        {
            Problem(node, $"a regex must have 1–{MaxPatternLength} characters");
            return null;
        }

        try
        {
            // The pattern is folded like the text it runs on, so a full-width character in it still matches.
            return new Regex(TextNormalizer.Fold(pattern, lower: false), PatternOptions);
        }
        catch (ArgumentException e)
        {
            Problem(node, $"invalid regex: {e.Message}");
        }
        catch (NotSupportedException e)
        {
            // NonBacktracking refuses backreferences, lookarounds and atomic groups: they are what makes a pattern hostile.
            Problem(node, $"regex not supported (no backreferences, lookarounds or atomic groups): {e.Message}");
        }

        return null;
    }

    // ---- routes ---------------------------------------------------------------------------------------------------

    private RouteSpec? ParseRoute(YamlNode node, int position)
    {
        if (Map(node, $"route {position}", "a mapping with on/match and actions") is not { } mapping)
        {
            return null;
        }

        var before = problems.Count;
        var entries = Entries(mapping, RouteKeys, $"route {position}");
        var id = $"route-{position}";
        if (entries.TryGetValue("id", out var idNode) && Str(idNode, "id") is { } idText)
        {
            if (!RouteId().IsMatch(idText))
            {
                Problem(idNode, $"invalid route id '{idText}' (1–64 letters, digits, '_', '-', '.', ':')");
            }
            else
            {
                id = idText;
            }
        }

        var priority = entries.TryGetValue("priority", out var priorityNode) ? Int(priorityNode, "priority", -1_000_000, 1_000_000) ?? 0 : 0;
        var on = new List<string>();
        var conditions = new List<RouteCondition>();
        var hasOn = entries.TryGetValue("on", out var onNode);
        var hasMatch = entries.TryGetValue("match", out var matchNode);
        if (hasOn && hasMatch)
        {
            Problem(matchNode!, "a route has either `on` or `match`, not both (add a `when` to narrow `on`)");
        }
        else if (!hasOn && !hasMatch)
        {
            Problem(mapping, $"route '{id}' needs `on:` (event names) or `match:` (an inbound type or an intent)");
        }
        else if (hasOn)
        {
            foreach (var (nameNode, name) in Strings(onNode!, "on"))
            {
                if (EventName(nameNode, name))
                {
                    on.Add(name);
                }
            }
        }
        else if (Str(matchNode!, "match") is { } match)
        {
            if (intents.TryGetValue(match, out var intent))
            {
                on.Add(EventTypes.MessageCreated);
                conditions.Add(new IntentCondition(intent, intentGate));
            }
            else if (EventName(matchNode!, match))
            {
                on.Add(match);
            }
        }

        if (entries.TryGetValue("when", out var whenNode) && Condition(whenNode) is { } when)
        {
            conditions.Add(when);
        }

        var extract = entries.TryGetValue("extract", out var extractNode) ? ParseExtract(extractNode) : [];
        var routeTimeout = entries.TryGetValue("timeout", out var timeoutNode) ? Duration(timeoutNode, "timeout") : null;
        var routeRetry = entries.TryGetValue("retry", out var retryNode) ? Retry(retryNode, defaults.Retry) : null;
        var @continue = entries.TryGetValue("continue", out var continueNode) && (Bool(continueNode, "continue") ?? false);
        string? oncePer = null;
        if (entries.TryGetValue("once_per", out var onceNode) && Str(onceNode, "once_per") is { } once)
        {
            if (once != "conversation")
            {
                Problem(onceNode, $"unknown once_per '{once}' (expected conversation)");
            }
            else
            {
                oncePer = once;
            }
        }

        var cooldown = entries.TryGetValue("cooldown", out var cooldownNode) ? Duration(cooldownNode, "cooldown") : null;
        if (entries.TryGetValue("description", out var descriptionNode))
        {
            Str(descriptionNode, "description");
        }

        var actions = new List<StepSpec>();
        if (!entries.TryGetValue("actions", out var actionsNode))
        {
            Problem(mapping, $"route '{id}' needs `actions:` (a list, e.g. - reply_template: \"…\")");
        }
        else if (actionsNode is YamlSequenceNode actionList && actionList.Children.Count > 0)
        {
            foreach (var item in actionList)
            {
                if (ParseStep(item, actions.Count) is { } step)
                {
                    actions.Add(step);
                }
            }
        }
        else
        {
            Problem(actionsNode, "`actions` must be a non-empty list (each item starting with `- `)");
        }

        if (problems.Count > before)
        {
            return null;
        }

        var condition = conditions.Count switch
        {
            0 => null,
            1 => conditions[0],
            _ => new AllCondition([.. conditions]),
        };
        return new RouteSpec(id, priority, on, condition, extract, actions, routeTimeout, routeRetry, @continue, oncePer, cooldown, Line(mapping));
    }

    [GeneratedRegex("^[A-Za-z0-9_.:-]{1,64}$")]
    private static partial Regex RouteId();

    /// <summary>An event type, a custom.* type or an inbound type; a misspelt event type (a known family's prefix) is refused.</summary>
    private bool EventName(YamlNode node, string name)
    {
        if (name.Length == 0 || name.Length > 128 || name.Any(char.IsWhiteSpace))
        {
            Problem(node, $"invalid event name '{name}'");
            return false;
        }

        if (name == EventTypes.InboundReceived)
        {
            // An inbound event's name is the sender's own type; only an event sent without one would be named this.
            Problem(node, "rules hear an inbound event by its own type (e.g. order_status), not by inbound.received");
            return false;
        }

        if (name.StartsWith(EventTypes.CustomPrefix, StringComparison.Ordinal) && !EventTypes.IsCustom(name))
        {
            Problem(node, $"invalid custom event type '{name}' (custom. and 1–64 of a-z 0-9 _ . -)");
            return false;
        }

        if (!EventTypes.IsKnown(name) && EventFamilies.Any(f => name.StartsWith(f, StringComparison.Ordinal)))
        {
            var known = EventTypes.All.Where(t => t.StartsWith(name[..(name.IndexOf('.') + 1)], StringComparison.Ordinal));
            Problem(node, $"unknown event type '{name}' (known: {string.Join(", ", known)})");
            return false;
        }

        return true;
    }

    private ExtractSpec[] ParseExtract(YamlNode node)
    {
        if (Map(node, "extract", "a mapping of names to a path or { path, regex, group }") is not { } mapping)
        {
            return [];
        }

        var extract = new List<ExtractSpec>();
        foreach (var (keyNode, value) in mapping.Children)
        {
            if (Key(keyNode) is not { } name)
            {
                continue;
            }

            if (!VariableName().IsMatch(name))
            {
                Problem(keyNode, $"invalid variable name '{name}' (letters, digits, '_')");
                continue;
            }

            if (value is YamlScalarNode)
            {
                if (Str(value, name) is { } path && Field(value, path) is not null)
                {
                    extract.Add(new ExtractSpec(name, path, null, null, Line(keyNode)));
                }

                continue;
            }

            if (Map(value, $"extract '{name}'", "a path or { path, regex, group }") is not { } spec)
            {
                continue;
            }

            var entries = Entries(spec, ExtractKeys, $"extract '{name}'");
            string? extractPath = "$text";
            if (entries.TryGetValue("path", out var pathNode))
            {
                extractPath = Str(pathNode, "path");
                if (extractPath is not null && Field(pathNode, extractPath) is null)
                {
                    extractPath = null;
                }
            }
            else if (!entries.ContainsKey("regex"))
            {
                Problem(spec, $"extract '{name}' needs `path:` and/or `regex:`");
                continue;
            }

            Regex? pattern = null;
            if (entries.TryGetValue("regex", out var regexNode) && Str(regexNode, "regex") is { } patternText)
            {
                pattern = CompilePattern(regexNode, patternText);
            }

            string? group = null;
            if (entries.TryGetValue("group", out var groupNode))
            {
                group = Str(groupNode, "group");
                if (pattern is null && group is not null)
                {
                    Problem(groupNode, "`group` needs a `regex`");
                }
                else if (pattern is not null && group is not null && !pattern.GetGroupNames().Contains(group))
                {
                    Problem(groupNode, $"the regex has no group '{group}' (it has: {string.Join(", ", pattern.GetGroupNames())})");
                }
            }

            extract.Add(new ExtractSpec(name, extractPath, pattern, group, Line(keyNode)));
        }

        return [.. extract];
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
    private static partial Regex VariableName();

    private StepSpec? ParseStep(YamlNode node, int index)
    {
        if (Map(node, "action", $"a mapping with one of {string.Join(", ", ActionKeys)}") is not { } mapping)
        {
            return null;
        }

        var entries = Entries(mapping, StepKeys, "action");
        var actionKeys = ActionKeys.Where(entries.ContainsKey).ToArray();
        if (actionKeys.Length != 1)
        {
            Problem(mapping, actionKeys.Length == 0
                ? $"an action needs one of {string.Join(", ", ActionKeys)}"
                : $"one action per list item, found {string.Join(" and ", actionKeys)} (start each with `- `)");
            return null;
        }

        var line = Line(mapping);
        var value = entries[actionKeys[0]];
        StepSpec? step = actionKeys[0] switch
        {
            "call" => ParseCall(value, index, line),
            "reply_template" => ParseReply(value, index, line),
            "assign" => ParseAssign(value, index, line),
            "tag" => ParseTag(value, index, line),
            "priority" => OneOf(value, "priority", ConversationPriority.All) is { } p ? new PriorityStep(index, line, p) : null,
            "status" => OneOf(value, "status", ConversationStatus.All) is { } s ? new StatusStep(index, line, s) : null,
            "emit" => ParseEmit(value, index, line),
            "plugin" => ParsePlugin(value, index, line),
            _ => null,
        };
        if (step is null)
        {
            return null;
        }

        if (entries.TryGetValue("timeout", out var timeoutNode))
        {
            step = step with { Timeout = Duration(timeoutNode, "timeout") };
        }

        if (entries.TryGetValue("retry", out var retryNode))
        {
            if (step is PluginStep)
            {
                // The same input makes a plugin fail the same way (fuel is deterministic): another attempt only costs time.
                Problem(retryNode, "a plugin step is not retried (a plugin is deterministic: the same input fails the same way); remove `retry`");
            }
            else
            {
                step = step with { Retry = Retry(retryNode, defaults.Retry) };
            }
        }

        if (entries.TryGetValue("on_error", out var onErrorNode) && Str(onErrorNode, "on_error") is { } onError)
        {
            switch (onError)
            {
                case "stop":
                    break;
                case "continue":
                    step = step with { OnError = OnError.Continue };
                    break;
                default:
                    Problem(onErrorNode, $"unknown on_error '{onError}' (expected stop or continue)");
                    break;
            }
        }

        return step;
    }

    private CallStep? ParseCall(YamlNode node, int index, int line)
    {
        if (Str(node, "call") is not { } reference)
        {
            return null;
        }

        var separator = reference.IndexOf("::", StringComparison.Ordinal);
        if (separator <= 0 || separator + 2 >= reference.Length)
        {
            Problem(node, $"call '{reference}' must be CONNECTOR::operation (e.g. ERP::updateOrder)");
            return null;
        }

        var connectorName = reference[..separator];
        var operationName = reference[(separator + 2)..];
        if (!connectors.TryGetValue(connectorName, out var connector))
        {
            Problem(node, connectors.Count == 0
                ? $"unknown connector '{connectorName}': declare it under `connectors:`"
                : $"unknown connector '{connectorName}' (declared: {string.Join(", ", connectors.Keys)})");
            return null;
        }

        if (!connector.Operations.ContainsKey(operationName))
        {
            Problem(node, $"connector '{connectorName}' has no operation '{operationName}' (it has: {string.Join(", ", connector.Operations.Keys)})");
            return null;
        }

        return new CallStep(index, line, connectorName, operationName);
    }

    /// <summary><c>plugin: order-triage</c>: a plugin name as uploads name them (whether it exists is known only at run time).</summary>
    private PluginStep? ParsePlugin(YamlNode node, int index, int line)
    {
        if (Str(node, "plugin") is not { } name)
        {
            return null;
        }

        if (!PluginName().IsMatch(name))
        {
            Problem(node, $"invalid plugin name '{name}' (1–63 of a-z 0-9 -, starting with a letter or digit, as uploaded)");
            return null;
        }

        return new PluginStep(index, line, name);
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$")]
    private static partial Regex PluginName();

    private ReplyTemplateStep? ParseReply(YamlNode node, int index, int line)
    {
        if (Str(node, "reply_template") is not { } source)
        {
            return null;
        }

        if (string.IsNullOrWhiteSpace(source))
        {
            Problem(node, "empty reply: reply_template needs the text to send");
            return null;
        }

        return TemplateOf(node, source) is { } template ? new ReplyTemplateStep(index, line, template) : null;
    }

    private AssignStep? ParseAssign(YamlNode node, int index, int line)
    {
        if (node is YamlScalarNode)
        {
            // `assign: sales` is a team (the usual case: through the dispatcher to the team's queue).
            return Str(node, "assign") is { } team && NonEmpty(node, team, "team") ? new AssignStep(index, line, team, null) : null;
        }

        if (Map(node, "assign", "a team name or { team } or { agent }") is not { } mapping)
        {
            return null;
        }

        var entries = Entries(mapping, AssignKeys, "assign");
        if (entries.Count != 1)
        {
            Problem(mapping, "assign names exactly one of `team` or `agent`");
            return null;
        }

        var (key, value) = entries.First();
        if (Str(value, key) is not { } target || !NonEmpty(value, target, key))
        {
            return null;
        }

        return key == "team" ? new AssignStep(index, line, target, null) : new AssignStep(index, line, null, target);
    }

    private TagStep? ParseTag(YamlNode node, int index, int line)
    {
        var tags = new List<string>();
        var ok = true;
        foreach (var (tagNode, tag) in Strings(node, "tag"))
        {
            if (tag.Length == 0 || tag.Length > 64)
            {
                Problem(tagNode, "a tag has 1–64 characters");
                ok = false;
            }
            else
            {
                tags.Add(tag);
            }
        }

        if (ok && tags.Count == 0)
        {
            Problem(node, "tag needs at least one tag");
        }

        return ok && tags.Count > 0 ? new TagStep(index, line, tags) : null;
    }

    private EmitStep? ParseEmit(YamlNode node, int index, int line)
    {
        string? type;
        YamlNode typeNode = node;
        var data = new Dictionary<string, Template>(StringComparer.Ordinal);
        if (node is YamlScalarNode)
        {
            type = Str(node, "emit");
        }
        else if (Map(node, "emit", "a custom.* type or { type, data }") is { } mapping)
        {
            var entries = Entries(mapping, EmitKeys, "emit");
            if (!entries.TryGetValue("type", out var t))
            {
                Problem(mapping, "emit needs `type:` (custom.something)");
                return null;
            }

            typeNode = t;
            type = Str(t, "type");
            if (entries.TryGetValue("data", out var dataNode) && Map(dataNode, "data", "a mapping of names to templates") is { } dataMapping)
            {
                foreach (var (keyNode, value) in dataMapping.Children)
                {
                    if (Key(keyNode) is { } key && Str(value, key) is { } source && TemplateOf(value, source) is { } template)
                    {
                        data[key] = template;
                    }
                }
            }
        }
        else
        {
            return null;
        }

        if (type is null)
        {
            return null;
        }

        if (!EventTypes.IsCustom(type))
        {
            Problem(typeNode, $"emit type '{type}' must be custom. followed by 1–64 of a-z 0-9 _ . - (e.g. custom.vip_order)");
            return null;
        }

        return new EmitStep(index, line, type, data);
    }

    // ---- conditions -----------------------------------------------------------------------------------------------

    private RouteCondition? Condition(YamlNode node)
    {
        if (node is YamlSequenceNode list)
        {
            // A list is `all` of its items.
            return Conditions(list, "when") is { } items ? (items.Length == 1 ? items[0] : new AllCondition(items)) : null;
        }

        if (Map(node, "condition", $"a mapping with one of {string.Join(", ", Operators)}") is not { } mapping)
        {
            return null;
        }

        if (mapping.Children.Count == 0)
        {
            Problem(mapping, $"empty condition (expected one of {string.Join(", ", Operators)})");
            return null;
        }

        var parts = new List<RouteCondition>();
        var ok = true;
        foreach (var (keyNode, value) in mapping.Children)
        {
            if (Key(keyNode) is not { } op)
            {
                ok = false;
                continue;
            }

            var condition = op switch
            {
                "all" => value is YamlSequenceNode all ? Conditions(all, "all") is { } items ? new AllCondition(items) : null : ExpectList(value, "all"),
                "any" => value is YamlSequenceNode any ? Conditions(any, "any") is { } items ? new AnyCondition(items) : null : ExpectList(value, "any"),
                "not" => Condition(value) is { } inner ? new NotCondition(inner) : null,
                "eq" or "ne" => PerField(value, op, (fieldNode, field, operandNode) => Scalar(operandNode, op) is { } operand ? new EqualsCondition(field, operand, op == "ne") : null),
                "in" => PerField(value, op, (fieldNode, field, operandNode) => Scalars(operandNode, op) is { } operands ? new InCondition(field, operands) : null),
                "contains" => PerField(value, op, (fieldNode, field, operandNode) => Scalar(operandNode, op) is { Text: not null } operand ? new ContainsCondition(field, operand) : NullOperand(operandNode, op)),
                "keywords" => value is YamlSequenceNode
                    ? KeywordsOf(value, TextField)
                    : PerField(value, op, (fieldNode, field, operandNode) => KeywordsOf(operandNode, field)),
                "regex" => value is YamlScalarNode
                    ? Str(value, op) is { } pattern && CompilePattern(value, pattern) is { } regex ? new RegexCondition(TextField, regex) : null
                    : PerField(value, op, (fieldNode, field, operandNode) => Str(operandNode, op) is { } p && CompilePattern(operandNode, p) is { } r ? new RegexCondition(field, r) : null),
                "exists" => ExistsOf(value),
                "gt" or "lt" => PerField(value, op, (fieldNode, field, operandNode) => Number(operandNode, op) is { } n ? new CompareCondition(field, n, op == "gt") : null),
                "business_hours" => BusinessHours(value),
                "intent" => IntentOf(value),
                _ => UnknownOperator(keyNode, op),
            };
            if (condition is null)
            {
                ok = false;
            }
            else
            {
                parts.Add(condition);
            }
        }

        return !ok ? null : parts.Count == 1 ? parts[0] : new AllCondition([.. parts]);
    }

    private static readonly FieldRef TextField = FieldRef.TryParse("$text", out _)!;

    private RouteCondition? UnknownOperator(YamlNode keyNode, string op)
    {
        Problem(keyNode, $"unknown condition '{op}' (expected one of {string.Join(", ", Operators)})");
        return null;
    }

    private RouteCondition? ExpectList(YamlNode node, string op)
    {
        Problem(node, $"`{op}` must be a list of conditions");
        return null;
    }

    private RouteCondition? NullOperand(YamlNode node, string op)
    {
        if (node is YamlScalarNode)
        {
            Problem(node, $"`{op}` needs a value, not null");
        }

        return null;
    }

    private RouteCondition[]? Conditions(YamlSequenceNode list, string op)
    {
        if (list.Children.Count == 0)
        {
            Problem(list, $"`{op}` needs at least one condition");
            return null;
        }

        var items = new List<RouteCondition>();
        var ok = true;
        foreach (var item in list)
        {
            if (Condition(item) is { } condition)
            {
                items.Add(condition);
            }
            else
            {
                ok = false;
            }
        }

        return ok ? [.. items] : null;
    }

    /// <summary><c>op: { path: operand, … }</c>: one condition per path, all of them must hold.</summary>
    private RouteCondition? PerField(YamlNode node, string op, Func<YamlNode, FieldRef, YamlNode, RouteCondition?> build)
    {
        if (Map(node, op, $"a mapping of paths to values, e.g. {op}: {{ order.status: paid }}") is not { } mapping)
        {
            return null;
        }

        if (mapping.Children.Count == 0)
        {
            Problem(mapping, $"`{op}` names no path");
            return null;
        }

        var parts = new List<RouteCondition>();
        var ok = true;
        foreach (var (keyNode, value) in mapping.Children)
        {
            if (Key(keyNode) is { } path && Field(keyNode, path) is { } field && build(keyNode, field, value) is { } condition)
            {
                parts.Add(condition);
            }
            else
            {
                ok = false;
            }
        }

        return !ok ? null : parts.Count == 1 ? parts[0] : new AllCondition([.. parts]);
    }

    private RouteCondition? KeywordsOf(YamlNode node, FieldRef field)
    {
        var before = problems.Count;
        var keywords = Keywords(node);
        if (problems.Count > before)
        {
            return null;
        }

        if (keywords.Length == 0)
        {
            Problem(node, "`keywords` needs at least one keyword");
            return null;
        }

        return new KeywordsCondition(field, keywords);
    }

    private RouteCondition? ExistsOf(YamlNode node)
    {
        var fields = new List<FieldRef>();
        var ok = true;
        foreach (var (pathNode, path) in Strings(node, "exists"))
        {
            if (Field(pathNode, path) is { } field)
            {
                fields.Add(field);
            }
            else
            {
                ok = false;
            }
        }

        return ok && fields.Count > 0 ? new ExistsCondition([.. fields]) : null;
    }

    private RouteCondition? BusinessHours(YamlNode node)
    {
        if (node is YamlScalarNode { Style: ScalarStyle.Plain, Value: "true" })
        {
            return new BusinessHoursCondition(null);
        }

        if (node is YamlScalarNode { Style: ScalarStyle.Plain, Value: "false" })
        {
            Problem(node, "business_hours: false is written not: { business_hours: true }");
            return null;
        }

        return Str(node, "business_hours") is { } inbox && NonEmpty(node, inbox, "inbox") ? new BusinessHoursCondition(inbox) : null;
    }

    private RouteCondition? IntentOf(YamlNode node)
    {
        if (Str(node, "intent") is not { } name)
        {
            return null;
        }

        if (!intents.TryGetValue(name, out var intent))
        {
            Problem(node, intents.Count == 0 ? $"unknown intent '{name}': declare it under `intents:`" : $"unknown intent '{name}' (declared: {string.Join(", ", intents.Keys)})");
            return null;
        }

        return new IntentCondition(intent, intentGate);
    }

    private FieldRef? Field(YamlNode node, string path)
    {
        var field = FieldRef.TryParse(path, out var error);
        if (field is null)
        {
            Problem(node, error!);
        }

        return field;
    }

    // ---- scalars and shapes ---------------------------------------------------------------------------------------

    private Operand? Scalar(YamlNode node, string what)
    {
        if (node is not YamlScalarNode scalar)
        {
            Problem(node, $"`{what}` needs a single value (a string, number, true/false or null)");
            return null;
        }

        var value = scalar.Value ?? "";
        if (scalar.Style != ScalarStyle.Plain)
        {
            return new Operand(value, null, null);
        }

        if (value is "" or "~" or "null")
        {
            return new Operand(null, null, null);
        }

        if (value is "true" or "false")
        {
            return new Operand(value, null, value == "true");
        }

        return double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
            ? new Operand(value, number, null)
            : new Operand(value, null, null);
    }

    private Operand[]? Scalars(YamlNode node, string what)
    {
        if (node is not YamlSequenceNode list || list.Children.Count == 0)
        {
            Problem(node, $"`{what}` needs a non-empty list of values, e.g. [open, pending]");
            return null;
        }

        var operands = list.Select(item => Scalar(item, what)).ToArray();
        return operands.All(o => o is not null) ? operands.Select(o => o!).ToArray() : null;
    }

    private double? Number(YamlNode node, string what)
    {
        if (node is YamlScalarNode { Style: ScalarStyle.Plain } scalar
            && double.TryParse(scalar.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
        {
            return number;
        }

        Problem(node, $"`{what}` needs a number");
        return null;
    }

    private string? OneOf(YamlNode node, string what, string[] allowed)
    {
        if (Str(node, what) is not { } value)
        {
            return null;
        }

        if (!allowed.Contains(value))
        {
            Problem(node, $"unknown {what} '{value}' (expected {string.Join(", ", allowed)})");
            return null;
        }

        return value;
    }

    private bool NonEmpty(YamlNode node, string value, string what)
    {
        if (value.Length == 0)
        {
            Problem(node, $"empty {what}");
            return false;
        }

        return true;
    }

    private Template? TemplateOf(YamlNode node, string source)
    {
        var template = Template.TryParse(source, out var error);
        if (template is null)
        {
            Problem(node, $"invalid template: {error}");
        }

        return template;
    }

    private YamlMappingNode? Map(YamlNode node, string what, string? expected = null)
    {
        if (node is YamlMappingNode mapping)
        {
            return mapping;
        }

        Problem(node, $"`{what}` must be {expected ?? "a mapping (key: value lines)"}, not {Describe(node)}");
        return null;
    }

    /// <summary>The mapping's entries by key; unknown and duplicate keys are problems at the key.</summary>
    private Dictionary<string, YamlNode> Entries(YamlMappingNode mapping, string[] allowed, string where, string? hint = null)
    {
        var entries = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in mapping.Children)
        {
            if (Key(keyNode) is not { } key)
            {
                continue;
            }

            if (!allowed.Contains(key))
            {
                var suggestion = allowed.FirstOrDefault(a => Near(a, key));
                Problem(keyNode, $"unknown key '{key}' in {where}" + (suggestion is not null ? $" (did you mean '{suggestion}'?)" : $" (expected: {string.Join(", ", allowed)})") + (hint is not null ? "; " + hint : ""));
                continue;
            }

            entries[key] = value;
        }

        return entries;
    }

    /// <summary>A close spelling: same letters ignoring case, '_' and '-' (base_url ~ baseUrl), or one edit apart.</summary>
    private static bool Near(string a, string b)
    {
        static string Squash(string s) => new([.. s.Where(char.IsLetterOrDigit).Select(char.ToLowerInvariant)]);
        var x = Squash(a);
        var y = Squash(b);
        if (x == y)
        {
            return true;
        }

        if (Math.Abs(x.Length - y.Length) > 1 || x.Length < 3)
        {
            return false;
        }

        // Two neighbouring letters swapped (actoins).
        if (x.Length == y.Length)
        {
            var diff = Enumerable.Range(0, x.Length).Where(k => x[k] != y[k]).ToArray();
            if (diff is [var d0, var d1] && d1 == d0 + 1 && x[d0] == y[d1] && x[d1] == y[d0])
            {
                return true;
            }
        }

        // One insertion, deletion or substitution.
        int i = 0, j = 0, edits = 0;
        while (i < x.Length && j < y.Length)
        {
            if (x[i] == y[j])
            {
                i++;
                j++;
                continue;
            }

            if (++edits > 1)
            {
                return false;
            }

            if (x.Length > y.Length)
            {
                i++;
            }
            else if (y.Length > x.Length)
            {
                j++;
            }
            else
            {
                i++;
                j++;
            }
        }

        return edits + (x.Length - i) + (y.Length - j) <= 1;
    }

    private string? Key(YamlNode keyNode)
    {
        if (keyNode is YamlScalarNode { Value: { } key })
        {
            return key;
        }

        Problem(keyNode, "a key must be a plain name");
        return null;
    }

    private string? Str(YamlNode node, string what)
    {
        if (node is YamlScalarNode scalar)
        {
            if (scalar.Style == ScalarStyle.Plain && scalar.Value is "" or "~" or "null")
            {
                Problem(node, $"`{what}` needs a value");
                return null;
            }

            return scalar.Value ?? "";
        }

        Problem(node, $"`{what}` must be a string, not {Describe(node)}");
        return null;
    }

    /// <summary>A string or a list of strings, with each one's node (for its position).</summary>
    private List<(YamlNode Node, string Value)> Strings(YamlNode node, string what)
    {
        var values = new List<(YamlNode, string)>();
        if (node is YamlSequenceNode list)
        {
            foreach (var item in list)
            {
                if (Str(item, what) is { } value)
                {
                    values.Add((item, value));
                }
            }
        }
        else if (Str(node, what) is { } single)
        {
            values.Add((node, single));
        }

        return values;
    }

    private int? Int(YamlNode node, string what, int min, int max)
    {
        if (node is YamlScalarNode { Style: ScalarStyle.Plain } scalar && int.TryParse(scalar.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            if (value < min || value > max)
            {
                Problem(node, $"`{what}` must be between {min} and {max}");
                return null;
            }

            return value;
        }

        Problem(node, $"`{what}` must be a whole number, not {Describe(node)}");
        return null;
    }

    private bool? Bool(YamlNode node, string what)
    {
        if (node is YamlScalarNode { Style: ScalarStyle.Plain, Value: "true" or "false" } scalar)
        {
            return scalar.Value == "true";
        }

        Problem(node, $"`{what}` must be true or false, not {Describe(node)}");
        return null;
    }

    /// <summary><c>250ms</c>, <c>3s</c>, <c>2m</c>, <c>1h</c>: positive, at most a day.</summary>
    private TimeSpan? Duration(YamlNode node, string what)
    {
        if (node is YamlScalarNode { Value: { } text } && DurationPattern().Match(text) is { Success: true } match)
        {
            var amount = long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            var duration = match.Groups[2].Value switch
            {
                "ms" => TimeSpan.FromMilliseconds(amount),
                "s" => TimeSpan.FromSeconds(amount),
                "m" => TimeSpan.FromMinutes(amount),
                _ => TimeSpan.FromHours(amount),
            };
            if (duration > TimeSpan.Zero && duration <= TimeSpan.FromDays(1))
            {
                return duration;
            }

            Problem(node, $"`{what}` must be more than 0 and at most 24h");
            return null;
        }

        Problem(node, $"`{what}` must be a duration like 250ms, 3s, 2m or 1h, not {Describe(node)}");
        return null;
    }

    [GeneratedRegex("^([0-9]{1,9})(ms|s|m|h)$")]
    private static partial Regex DurationPattern();

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex NameRegex();

    private static bool IsName(string name) => NameRegex().IsMatch(name);

    private static bool IsNull(YamlNode node) => node is YamlScalarNode { Style: ScalarStyle.Plain, Value: "" or "~" or "null" };

    private static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        YamlScalarNode s when IsNull(s) => "empty",
        YamlScalarNode s => $"'{s.Value}'",
        _ => "an alias",
    };

    private static int Line(YamlNode node) => (int)node.Start.Line;

    private void Problem(YamlNode node, string message) => problems.Add(new RoutingProblem((int)node.Start.Line, (int)node.Start.Column, message));
}
