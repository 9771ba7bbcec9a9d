using System.Globalization;
using System.Security;
using System.Text;

namespace Kefu.Benchmarks;

/// <summary>
/// Draws a <see cref="LatencyReport"/> as a standalone SVG: x = load level (% of the closed-loop capacity), y = latency
/// in ms on a log scale (p50 and p99.9 are two to three decades apart), one line per mode and percentile at the median,
/// a bar from min to max over the runs at each point, and the target line. No plotting library is available on the
/// build machine, and an SVG is text: it can be unit-tested and diffed, and Chromium turns it into the PNG.
/// </summary>
public static class LatencySvg
{
    public const int Width = 960;
    public const int Height = 600;

    private const double Left = 80, Right = 250, Top = 70, Bottom = 70;
    private const double PlotWidth = Width - Left - Right, PlotHeight = Height - Top - Bottom;

    /// <summary>Percentile name, colour: the same colour for a percentile in every mode (modes differ by dash).</summary>
    private static readonly (string Name, string Colour, Func<LevelPoint, Spread?> Value)[] Percentiles =
    [
        ("p50", "#1f77b4", p => p.P50Ms),
        ("p99", "#ff7f0e", p => p.P99Ms),
        ("p99.9", "#9467bd", p => p.P999Ms),
    ];

    private const string TargetColour = "#d62728";

    public static string Write(LatencyReport report, LatencyTarget target, string title)
    {
        var modes = report.Points.Select(p => p.Mode).Distinct(StringComparer.Ordinal).ToList();
        var values = report.Points.SelectMany(p => Percentiles.Select(x => x.Value(p))).OfType<Spread>()
            .SelectMany(s => new[] { s.Min, s.Max }).Append(target.Ms).Select(Positive).ToList();
        // Whole decades on the axis so the gridlines are 1, 10, 100 ms…
        var lo = Math.Floor(Math.Log10(values.Min()));
        var hi = Math.Ceiling(Math.Log10(values.Max()));
        if (hi <= lo)
        {
            hi = lo + 1;
        }

        double X(double level) => Left + level / 100 * PlotWidth;
        double Y(double ms) => Top + (hi - Math.Log10(Positive(ms))) / (hi - lo) * PlotHeight;

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture,
            $"""<svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{Height}" viewBox="0 0 {Width} {Height}" font-family="sans-serif" font-size="13">""").Append('\n');
        svg.Append(CultureInfo.InvariantCulture, $"""<rect width="{Width}" height="{Height}" fill="#ffffff"/>""").Append('\n');
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Left}" y="30" font-size="17" font-weight="bold">{Esc(title)}</text>""").Append('\n');
        svg.Append(CultureInfo.InvariantCulture,
            $"""<text x="{Left}" y="50" fill="#555">median of the runs; bars: min–max over the runs; y: log scale</text>""").Append('\n');

        // Axes, ticks and gridlines.
        svg.Append("<g class=\"axes\" stroke=\"#000\">\n");
        svg.Append(CultureInfo.InvariantCulture, $"""<line class="x-axis" x1="{F(Left)}" y1="{F(Top + PlotHeight)}" x2="{F(Left + PlotWidth)}" y2="{F(Top + PlotHeight)}"/>""").Append('\n');
        svg.Append(CultureInfo.InvariantCulture, $"""<line class="y-axis" x1="{F(Left)}" y1="{F(Top)}" x2="{F(Left)}" y2="{F(Top + PlotHeight)}"/>""").Append('\n');
        svg.Append("</g>\n<g class=\"x-ticks\" font-size=\"12\" text-anchor=\"middle\">\n");
        for (var level = 0; level <= 100; level += 25)
        {
            svg.Append(CultureInfo.InvariantCulture,
                $"""<line x1="{F(X(level))}" y1="{F(Top)}" x2="{F(X(level))}" y2="{F(Top + PlotHeight)}" stroke="#e5e5e5"/><text x="{F(X(level))}" y="{F(Top + PlotHeight + 18)}">{level} %</text>""").Append('\n');
        }

        svg.Append("</g>\n<g class=\"y-ticks\" font-size=\"12\" text-anchor=\"end\">\n");
        for (var decade = lo; decade <= hi; decade++)
        {
            foreach (var m in new[] { 1, 2, 5 })
            {
                var ms = m * Math.Pow(10, decade);
                if (Math.Log10(ms) > hi + 1e-9)
                {
                    break;
                }

                var major = m == 1;
                svg.Append(CultureInfo.InvariantCulture,
                    $"""<line x1="{F(Left)}" y1="{F(Y(ms))}" x2="{F(Left + PlotWidth)}" y2="{F(Y(ms))}" stroke="{(major ? "#cfcfcf" : "#efefef")}"/><text x="{F(Left - 6)}" y="{F(Y(ms) + 4)}"{(major ? "" : " fill=\"#888\"")}>{Num(ms)}</text>""").Append('\n');
            }
        }

        svg.Append("</g>\n");
        svg.Append(CultureInfo.InvariantCulture,
            $"""<text class="x-label" x="{F(Left + PlotWidth / 2)}" y="{F(Height - 22)}" text-anchor="middle">load (% of the closed-loop capacity)</text>""").Append('\n');
        svg.Append(CultureInfo.InvariantCulture,
            $"""<text class="y-label" x="22" y="{F(Top + PlotHeight / 2)}" text-anchor="middle" transform="rotate(-90 22 {F(Top + PlotHeight / 2)})">end-to-end latency (ms)</text>""").Append('\n');

        // The target: a horizontal line at its latency, labelled with what it applies to.
        svg.Append(CultureInfo.InvariantCulture,
            $"""<g class="target" data-ms="{Num(target.Ms)}"><line x1="{F(Left)}" y1="{F(Y(target.Ms))}" x2="{F(Left + PlotWidth)}" y2="{F(Y(target.Ms))}" stroke="{TargetColour}" stroke-width="1.5" stroke-dasharray="8 4"/>""")
           .Append(CultureInfo.InvariantCulture,
            $"""<text x="{F(Left + PlotWidth - 4)}" y="{F(Y(target.Ms) - 6)}" text-anchor="end" fill="{TargetColour}">target: {Esc(target.Mode)} p99 ≤ {Num(target.Ms)} ms at {target.Level} %</text></g>""").Append('\n');

        // The series side by side around each level (a small x offset per mode and percentile) so that their min–max
        // bars, which overlap in latency when runs are noisy, do not hide each other.
        var slots = modes.Count * Percentiles.Length;
        for (var mi = 0; mi < modes.Count; mi++)
        {
            var mode = modes[mi];
            var points = report.Points.Where(p => p.Mode == mode).OrderBy(p => p.Level).ToList();
            for (var pi = 0; pi < Percentiles.Length; pi++)
            {
                var (name, colour, value) = Percentiles[pi];
                var offset = (mi * Percentiles.Length + pi - (slots - 1) / 2.0) * 0.8;
                var measured = points.Where(p => value(p) is not null).ToList();
                if (measured.Count == 0)
                {
                    continue;
                }

                svg.Append(CultureInfo.InvariantCulture,
                    $"""<g class="series" data-mode="{Esc(mode)}" data-percentile="{name}" stroke="{colour}" fill="{colour}">""").Append('\n');
                var line = string.Join(' ', measured.Select(p => $"{F(X(p.Level + offset))},{F(Y(value(p)!.Median))}"));
                svg.Append(CultureInfo.InvariantCulture,
                    $"""<polyline points="{line}" fill="none" stroke-width="2"{Dash(mi)}/>""").Append('\n');
                foreach (var p in measured)
                {
                    var s = value(p)!;
                    var x = X(p.Level + offset);
                    svg.Append(CultureInfo.InvariantCulture,
                        $"""<g class="point" data-level="{p.Level}" data-median="{Num(s.Median)}" data-min="{Num(s.Min)}" data-max="{Num(s.Max)}">""")
                       .Append(CultureInfo.InvariantCulture,
                        $"""<title>{Esc(mode)} {name} at {p.Level} %: {Num(s.Median)} ms ({Num(s.Min)}–{Num(s.Max)}), delivered {LatencyReport.Fig(p.Delivered, LatencyReport.Rate)}/s</title>""")
                       .Append(CultureInfo.InvariantCulture,
                        $"""<line class="range" x1="{F(x)}" y1="{F(Y(s.Min))}" x2="{F(x)}" y2="{F(Y(s.Max))}" stroke-width="1.5"/>""")
                       .Append(CultureInfo.InvariantCulture,
                        $"""<line x1="{F(x - 4)}" y1="{F(Y(s.Min))}" x2="{F(x + 4)}" y2="{F(Y(s.Min))}"/><line x1="{F(x - 4)}" y1="{F(Y(s.Max))}" x2="{F(x + 4)}" y2="{F(Y(s.Max))}"/>""")
                       .Append(CultureInfo.InvariantCulture, $"""<circle cx="{F(x)}" cy="{F(Y(s.Median))}" r="3.5"/></g>""").Append('\n');
                }

                svg.Append("</g>\n");
            }
        }

        // Legend: colours = percentiles, dashes = modes, and the target.
        var lx = Left + PlotWidth + 24;
        var ly = Top + 10;
        svg.Append("<g class=\"legend\">\n");
        foreach (var (name, colour, _) in Percentiles)
        {
            svg.Append(CultureInfo.InvariantCulture,
                $"""<line x1="{F(lx)}" y1="{F(ly)}" x2="{F(lx + 30)}" y2="{F(ly)}" stroke="{colour}" stroke-width="3"/><text x="{F(lx + 38)}" y="{F(ly + 4)}">{name}</text>""").Append('\n');
            ly += 22;
        }

        ly += 8;
        for (var mi = 0; mi < modes.Count; mi++)
        {
            svg.Append(CultureInfo.InvariantCulture,
                $"""<line x1="{F(lx)}" y1="{F(ly)}" x2="{F(lx + 30)}" y2="{F(ly)}" stroke="#333" stroke-width="2"{Dash(mi)}/><text x="{F(lx + 38)}" y="{F(ly + 4)}">{ModeLabel(modes[mi], report)}</text>""").Append('\n');
            ly += 22;
        }

        ly += 8;
        svg.Append(CultureInfo.InvariantCulture,
            $"""<line x1="{F(lx)}" y1="{F(ly)}" x2="{F(lx + 30)}" y2="{F(ly)}" stroke="{TargetColour}" stroke-width="1.5" stroke-dasharray="8 4"/><text x="{F(lx + 38)}" y="{F(ly + 4)}">target</text>""").Append('\n');
        svg.Append("</g>\n</svg>\n");
        return svg.ToString();
    }

    // A mode's legend entry names its capacity: the 100 % the x axis is relative to.
    private static string ModeLabel(string mode, LatencyReport report) =>
        Esc(report.CapacityOf(mode) is { } c ? $"{mode} (100 % = {LatencyReport.Rate(c)}/s)" : mode);

    private static string Dash(int modeIndex) => modeIndex switch
    {
        0 => "",
        1 => " stroke-dasharray=\"7 4\"",
        _ => " stroke-dasharray=\"2 3\"",
    };

    // Latency 0 (no message measured) has no place on a log axis: draw it at 1 µs.
    private static double Positive(double ms) => Math.Max(ms, 0.001);

    private static string F(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);

    private static string Num(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Esc(string text) => SecurityElement.Escape(text);
}
