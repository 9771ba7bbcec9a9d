using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Kefu.Grains.Routing;

// The compiled `when` operators (docs/routing.md, "Conditions"). Each is immutable and allocation-free per evaluation:
// paths are pre-split, keywords pre-normalised, and the event's normalised text is computed once per event
// (RoutingEvent.NormalizedText).

/// <summary>
/// Where a condition reads its value: a dotted path into the event's data, or one of the event's own fields
/// (<c>$name</c>, <c>$type</c>, <c>$text</c>, <c>$sender</c>, <c>$inbox</c>, <c>$conversation</c>).
/// </summary>
public sealed class FieldRef
{
    public static readonly IReadOnlyList<string> EventFields = ["$name", "$type", "$text", "$sender", "$inbox", "$conversation"];

    private readonly string[] segments;

    private FieldRef(string path, string[] segments)
    {
        Path = path;
        this.segments = segments;
    }

    public string Path { get; }

    public bool IsText => Path == "$text";

    /// <summary>Null and <paramref name="error"/> when the path is malformed or names an unknown event field.</summary>
    public static FieldRef? TryParse(string path, out string? error)
    {
        error = null;
        if (path.StartsWith('$'))
        {
            if (!EventFields.Contains(path))
            {
                error = $"unknown event field '{path}' (expected one of {string.Join(", ", EventFields)}, or a dotted path into the event's data)";
                return null;
            }

            return new FieldRef(path, []);
        }

        if (path.Length == 0 || path.AsSpan().IndexOfAny(" \t{}") >= 0 || path.StartsWith('.') || path.EndsWith('.') || path.Contains("..", StringComparison.Ordinal))
        {
            error = $"invalid path '{path}': expected a dotted path like order.id";
            return null;
        }

        return new FieldRef(path, path.Split('.'));
    }

    /// <summary>The value, as JSON element (data paths) or string (event fields); false when absent or null.</summary>
    public bool TryGet(RoutingEvent e, out JsonElement element, out string? text)
    {
        element = default;
        text = Path switch
        {
            "$name" => e.Name,
            "$type" => e.Type,
            "$text" => e.Text,
            "$sender" => e.SenderRole,
            "$inbox" => e.Inbox,
            "$conversation" => e.ConversationId,
            _ => null,
        };
        if (segments.Length == 0)
        {
            return text is not null;
        }

        return JsonPath.TryGet(e.Data, segments, out element);
    }

    /// <summary>The value as a string (numbers as written, objects as JSON), for text operators and extraction.</summary>
    public bool TryGetString(RoutingEvent e, out string value)
    {
        if (!TryGet(e, out var element, out var text))
        {
            value = "";
            return false;
        }

        if (text is not null)
        {
            value = text;
            return true;
        }

        return Template.TryFormat(element, out value);
    }

    /// <summary>The value normalised for text matching: full-width folded to half-width (NFKC); lower case when <paramref name="lower"/>.</summary>
    public bool TryGetNormalized(RoutingEvent e, bool lower, out string value)
    {
        if (IsText)
        {
            var normalized = e.NormalizedText;
            if (normalized is null)
            {
                value = "";
                return false;
            }

            value = lower ? normalized.Lower : normalized.Folded;
            return true;
        }

        if (!TryGetString(e, out var raw))
        {
            value = "";
            return false;
        }

        value = TextNormalizer.Fold(raw, lower);
        return true;
    }
}

/// <summary>A scalar written in the YAML: its text, and its number / boolean reading when it is a plain scalar.</summary>
public sealed record Operand(string? Text, double? Number, bool? Boolean)
{
    public bool IsNull => Text is null;

    public bool Matches(JsonElement element, string? text, bool present)
    {
        if (!present)
        {
            return IsNull;
        }

        if (text is not null)
        {
            return Text == text;
        }

        return element.ValueKind switch
        {
            JsonValueKind.String => Text == element.GetString(),
            JsonValueKind.Number => Number is { } n ? element.TryGetDouble(out var d) && d == n : element.GetRawText() == Text,
            JsonValueKind.True => Boolean == true,
            JsonValueKind.False => Boolean == false,
            _ => false,
        };
    }

    public override string ToString() => Text ?? "null";
}

/// <summary>
/// Full-width → half-width and case folding, so 「ＶＩＰ」, 「vip」 and 「Vip」 match alike. The width folding is the part of
/// NFKC that matters for Chinese input methods (U+FF01–U+FF5E → ASCII, U+3000 → space), done by hand because the
/// server runs with invariant globalization, where string.Normalize does not fold widths.
/// </summary>
public static class TextNormalizer
{
    public static string Fold(string text, bool lower)
    {
        ArgumentNullException.ThrowIfNull(text);
        var folded = text;
        var first = IndexOfWide(text);
        if (first >= 0)
        {
            folded = string.Create(text.Length, (text, first), static (span, state) =>
            {
                state.text.AsSpan().CopyTo(span);
                for (var i = state.first; i < span.Length; i++)
                {
                    span[i] = Narrow(span[i]);
                }
            });
        }

        // ToLowerInvariant returns the same instance when nothing changes: ASCII lower-case text allocates nothing.
        return lower ? folded.ToLowerInvariant() : folded;
    }

    private static int IndexOfWide(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] is (>= '\uFF01' and <= '\uFF5E') or '\u3000')
            {
                return i;
            }
        }

        return -1;
    }

    private static char Narrow(char c) => c switch
    {
        >= '\uFF01' and <= '\uFF5E' => (char)(c - 0xFEE0),
        '\u3000' => ' ',
        _ => c,
    };
}

/// <summary>An event's text, folded once: <see cref="Folded"/> for regexes (which ignore case), <see cref="Lower"/> for keywords.</summary>
public sealed class NormalizedText(string source, string folded, string lower)
{
    // The intent gate's answers for this text (see IntentGate), so 40 intent routes ask the combined patterns once.
    // Written so that a concurrent reader sees at worst "not asked yet" (and asks again), never a wrong answer.
    private volatile GateAnswers? answers;

    /// <summary>The text this was folded from (the cache key).</summary>
    internal string Source => source;

    public string Folded => folded;

    public string Lower => lower;

    internal bool GatePasses(IntentGate intentGate, int chunk)
    {
        var current = answers;
        if (current is null || !ReferenceEquals(current.Gate, intentGate))
        {
            current = new GateAnswers(intentGate, intentGate.All.IsMatch(folded));
            answers = current;
        }

        if (!current.All)
        {
            return false;
        }

        if (chunk < 0)
        {
            return true;
        }

        var bit = 1L << chunk;
        if ((Interlocked.Read(ref current.Asked) & bit) == 0)
        {
            if (intentGate.Chunks[chunk].IsMatch(folded))
            {
                Interlocked.Or(ref current.Passed, bit);
            }

            Interlocked.Or(ref current.Asked, bit);
            return (Interlocked.Read(ref current.Passed) & bit) != 0;
        }

        return (Interlocked.Read(ref current.Passed) & bit) != 0;
    }

    private sealed class GateAnswers(IntentGate gate, bool all)
    {
        public long Asked;
        public long Passed;

        public IntentGate Gate => gate;

        public bool All => all;
    }
}

/// <summary>
/// A ruleset's intent patterns combined into alternations: one linear pass over a visitor's text tells whether any intent
/// pattern can match (the usual answer is no: then no intent runs its own patterns), and when one can, a pass per chunk
/// of up to <see cref="MinChunk"/>+ patterns narrows which ones to run. Built once per compilation, shared by its routes.
/// </summary>
public sealed class IntentGate
{
    private const int MinChunk = 6;
    private const int MaxChunks = 64;

    private readonly Dictionary<Regex, int> chunkOf;

    private IntentGate(Regex all, Regex[] chunks, Dictionary<Regex, int> chunkOf)
    {
        All = all;
        Chunks = chunks;
        this.chunkOf = chunkOf;
    }

    internal Regex All { get; }

    internal Regex[] Chunks { get; }

    /// <summary>The chunk gate of <paramref name="pattern"/>, or -1 when it has none (its chunk is itself).</summary>
    internal int ChunkOf(Regex pattern) => chunkOf.GetValueOrDefault(pattern, -1);

    /// <summary>Null when there are fewer than two patterns or the combination does not compile (then every pattern runs on its own).</summary>
    public static IntentGate? Create(IReadOnlyList<Regex> patterns, RegexOptions options)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        if (patterns.Count < 2)
        {
            return null;
        }

        try
        {
            var all = Combine(patterns, options);
            var size = Math.Max(MinChunk, (patterns.Count + MaxChunks - 1) / MaxChunks);
            var chunks = new List<Regex>();
            var chunkOf = new Dictionary<Regex, int>(ReferenceEqualityComparer.Instance);
            for (var start = 0; start < patterns.Count; start += size)
            {
                var members = patterns.Skip(start).Take(size).ToArray();
                if (members.Length < 2)
                {
                    continue;
                }

                foreach (var member in members)
                {
                    chunkOf[member] = chunks.Count;
                }

                chunks.Add(Combine(members, options));
            }

            return new IntentGate(all, [.. chunks], chunkOf);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            return null;
        }
    }

    private static Regex Combine(IEnumerable<Regex> patterns, RegexOptions options) =>
        new(string.Join('|', patterns.Select(p => "(?:" + p + ")")), options);
}

public sealed class AllCondition(RouteCondition[] conditions) : RouteCondition
{
    public IReadOnlyList<RouteCondition> Conditions => conditions;

    public override bool Evaluate(RoutingEvent routingEvent, RoutingFacts facts)
    {
        foreach (var condition in conditions)
        {
            if (!condition.Evaluate(routingEvent, facts))
            {
                return false;
            }
        }

        return true;
    }
}

public sealed class AnyCondition(RouteCondition[] conditions) : RouteCondition
{
    public IReadOnlyList<RouteCondition> Conditions => conditions;

    public override bool Evaluate(RoutingEvent routingEvent, RoutingFacts facts)
    {
        foreach (var condition in conditions)
        {
            if (condition.Evaluate(routingEvent, facts))
            {
                return true;
            }
        }

        return false;
    }
}

public sealed class NotCondition(RouteCondition condition) : RouteCondition
{
    public RouteCondition Condition => condition;

    public override bool Evaluate(RoutingEvent routingEvent, RoutingFacts facts) => !condition.Evaluate(routingEvent, facts);
}

/// <summary><c>eq</c> (or <c>ne</c> when <paramref name="negate"/>): the value equals the operand (a missing value equals only null).</summary>
public sealed class EqualsCondition(FieldRef source, Operand operand, bool negate) : RouteCondition
{
    public override bool Evaluate(RoutingEvent routingEvent, RoutingFacts facts)
    {
        var present = source.TryGet(routingEvent, out var element, out var text);
        return operand.Matches(element, text, present) != negate;
    }
}

/// <summary><c>in</c>: the value equals one of the operands.</summary>
public sealed class InCondition(FieldRef source, Operand[] operands) : RouteCondition
{
    public override bool Evaluate(RoutingEvent routingEvent, RoutingFacts facts)
    {
        var present = source.TryGet(routingEvent, out var element, out var text);
        foreach (var operand in operands)
        {
            if (operand.Matches(element, text, present))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>
/// <c>contains</c>: a string value contains the operand (case- and width-insensitive); an array value has an element
/// equal to it.
/// </summary>
public sealed class ContainsCondition(FieldRef source, Operand operand) : RouteCondition
{
    private readonly string needle = TextNormalizer.Fold(operand.Text ?? "", lower: true);

    public override bool Evaluate(RoutingEvent routingEvent, RoutingFacts facts)
    {
        if (!source.TryGet(routingEvent, out var element, out var text))
        {
            return false;
        }

        if (text is null && element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                if (operand.Matches(item, null, present: true))
                {
                    return true;
                }
            }

            return false;
        }

        return source.TryGetNormalized(routingEvent, lower: true, out var value) && value.Contains(needle, StringComparison.Ordinal);
    }
}

/// <summary><c>keywords</c>: the value contains any of the keywords (case- and width-insensitive, pre-folded).</summary>
public sealed class KeywordsCondition(FieldRef source, string[] keywords) : RouteCondition
{
    public FieldRef Field => source;

    public override bool Evaluate(RoutingEvent routingEvent, RoutingFacts facts) =>
        source.TryGetNormalized(routingEvent, lower: true, out var value) && ContainsAny(value, keywords);

    internal static bool ContainsAny(string value, string[] keywords)
    {
        foreach (var keyword in keywords)
        {
            if (value.Contains(keyword, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary><c>regex</c>: the (width-folded) value matches; named groups become extracted values of a matched route.</summary>
public sealed class RegexCondition(FieldRef source, Regex pattern) : RouteCondition
{
    public FieldRef Field => source;

    public Regex Pattern => pattern;

    public override bool Evaluate(RoutingEvent routingEvent, RoutingFacts facts) =>
        source.TryGetNormalized(routingEvent, lower: false, out var value) && pattern.IsMatch(value);
}

/// <summary><c>gt</c> / <c>lt</c>: the value (a number, or a string holding one) is greater / less than the operand.</summary>
public sealed class CompareCondition(FieldRef source, double operand, bool greater) : RouteCondition
{
    public override bool Evaluate(RoutingEvent routingEvent, RoutingFacts facts)
    {
        if (!source.TryGet(routingEvent, out var element, out var text))
        {
            return false;
        }

        double value;
        if (text is not null)
        {
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value))
            {
                return false;
            }
        }
        else if (element.ValueKind == JsonValueKind.Number)
        {
            value = element.GetDouble();
        }
        else if (element.ValueKind != JsonValueKind.String || !double.TryParse(element.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out value))
        {
            return false;
        }

        return greater ? value > operand : value < operand;
    }
}

/// <summary><c>exists</c>: every path has a non-null value.</summary>
public sealed class ExistsCondition(FieldRef[] fields) : RouteCondition
{
    public override bool Evaluate(RoutingEvent routingEvent, RoutingFacts facts)
    {
        foreach (var source in fields)
        {
            if (!source.TryGet(routingEvent, out _, out _))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>
/// <c>business_hours</c>: the inbox (<paramref name="inbox"/>, or the event's own when null) is within its business
/// hours now. False when the caller supplies no business-hours facts or the event names no inbox.
/// </summary>
public sealed class BusinessHoursCondition(string? inbox) : RouteCondition
{
    public override bool Evaluate(RoutingEvent routingEvent, RoutingFacts facts)
    {
        var target = inbox ?? routingEvent.Inbox;
        return target is not null && facts.IsWithinBusinessHours is { } within && within(target, facts.Now);
    }
}

/// <summary>
/// A named intent: a visitor message (<c>message.created</c> from a visitor) whose text contains a keyword or matches a
/// pattern, both case- and width-insensitive.
/// </summary>
public sealed class IntentCondition(IntentSpec intent, IntentGate? gate = null) : RouteCondition
{
    // The compiler stores the keywords already folded (lower case, half-width). Arrays, not the spec's lists: a foreach
    // over an interface allocates an enumerator per evaluation.
    private readonly string[] foldedKeywords = [.. intent.Keywords];
    private readonly Regex[] patterns = [.. intent.Patterns];
    private readonly int[] chunks = [.. intent.Patterns.Select(p => gate?.ChunkOf(p) ?? -1)];

    public IntentSpec Intent => intent;

    public override bool Evaluate(RoutingEvent routingEvent, RoutingFacts facts)
    {
        if (routingEvent.SenderRole != "visitor" || routingEvent.NormalizedText is not { } text)
        {
            return false;
        }

        if (KeywordsCondition.ContainsAny(text.Lower, foldedKeywords))
        {
            return true;
        }

        for (var i = 0; i < patterns.Length; i++)
        {
            if ((gate is null || text.GatePasses(gate, chunks[i])) && patterns[i].IsMatch(text.Folded))
            {
                return true;
            }
        }

        return false;
    }
}
