using System.Globalization;
using System.Security.Claims;
using System.Text;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kefu.Gateway.Api;

/// <summary>
/// The Reports page's API (issue #20, docs/reports.md): conversations per day, first-response and resolution time,
/// CSAT and backlog over a range of days in the admin's zone, as JSON or CSV. Admins only. Answers from the report rows
/// through a stateless worker: no conversation grain is asked.
/// </summary>
public static class ReportsApi
{
    /// <summary>The longest range a report covers (a leap year).</summary>
    public const int MaxDays = 366;

    private const string Parameters = "`from`, `to`: days (yyyy-MM-dd) in the zone `tz` (±HH:MM, default Z); the range is [from, to), at most "
        + "366 days, default the last 7 days. `groupBy`: none, agent, team or inbox. `agent`, `team`, `inbox`: only that one's conversations.";

    // How long a report waits for the projector to read what the log holds now: a report is never blocked by a backlog.
    private static readonly TimeSpan CatchUpWait = TimeSpan.FromSeconds(2);

    public static IEndpointRouteBuilder MapReportsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/reports").WithTags("reports").RequireAuthorization(KefuPolicies.Admin);
        group.MapGet("/overview", OverviewAsync)
            .WithSummary("Conversations, first response, resolution, CSAT and backlog over a range")
            .WithDescription("Totals, one entry per day (conversations created, resolved, open at the day's end) and, with `groupBy`, "
                + "one row per agent, team or inbox. Times are seconds (median and 90th percentile, within 2.5 %). " + Parameters);
        group.MapGet("/overview.csv", CsvAsync)
            .WithSummary("The overview as CSV")
            .WithDescription("`table=groups` (default): one row per group and a (total) row; `table=days`: one row per day. " + Parameters)
            .Produces<string>(StatusCodes.Status200OK, "text/csv");
        return app;
    }

    private static async Task<Results<Ok<ReportResponse>, ProblemHttpResult>> OverviewAsync(HttpRequest request, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (Parse(request.Query) is not { } parsed)
        {
            return Error(request.Query);
        }

        var overview = await RunAsync(parsed, user, grains);
        return TypedResults.Ok(new ReportResponse(parsed.FromDate, parsed.ToDate, parsed.Tz, overview.Query.GroupBy, overview.Totals, overview.Days, overview.Groups));
    }

    private static async Task<IResult> CsvAsync(HttpRequest request, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (Parse(request.Query) is not { } parsed)
        {
            return Error(request.Query);
        }

        var table = request.Query["table"].ToString();
        if (table is not ("" or "groups" or "days"))
        {
            return Problems.Invalid("table must be groups or days.");
        }

        var overview = await RunAsync(parsed, user, grains);
        var csv = table == "days" ? DaysCsv(overview) : GroupsCsv(overview);
        var name = $"kefu-report-{parsed.FromDate:yyyy-MM-dd}-{parsed.ToDate:yyyy-MM-dd}{(table == "days" ? "-days" : "")}.csv";
        return TypedResults.File(Encoding.UTF8.GetBytes(csv), "text/csv; charset=utf-8", name);
    }

    private static async Task<ReportOverview> RunAsync(ParsedQuery parsed, ClaimsPrincipal user, IGrainFactory grains)
    {
        var tenant = user.ToCaller().Tenant;
        try
        {
            await grains.GetGrain<IReportProjectorGrain>(tenant).CatchUp().WaitAsync(CatchUpWait);
        }
        catch (TimeoutException)
        {
            // The report shows what is projected so far; the projector goes on in the background.
        }

        return await grains.GetGrain<IReportQueryGrain>(tenant).Overview(parsed.Query);
    }

    public static string GroupsCsv(ReportOverview overview)
    {
        ArgumentNullException.ThrowIfNull(overview);
        var csv = new StringBuilder();
        Line(csv, ["group", "conversations", "resolved", "first_response_median_s", "first_response_p90_s", "resolution_median_s",
            "resolution_p90_s", "csat_count", "csat_average", "csat_1", "csat_2", "csat_3", "csat_4", "csat_5", "backlog"]);
        foreach (var row in overview.Groups)
        {
            Row(csv, row.Key, row);
        }

        Row(csv, "(total)", overview.Totals);
        return csv.ToString();
    }

    public static string DaysCsv(ReportOverview overview)
    {
        ArgumentNullException.ThrowIfNull(overview);
        var csv = new StringBuilder();
        Line(csv, ["date", "conversations", "resolved", "backlog"]);
        foreach (var day in overview.Days)
        {
            Line(csv, [day.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), Num(day.Conversations), Num(day.Resolved), Num(day.Backlog)]);
        }

        return csv.ToString();
    }

    private static void Row(StringBuilder csv, string key, ReportRow r) => Line(csv,
    [
        key, Num(r.Conversations), Num(r.Resolved), Num(r.FirstResponse.MedianSeconds), Num(r.FirstResponse.P90Seconds),
        Num(r.Resolution.MedianSeconds), Num(r.Resolution.P90Seconds), Num(r.Csat.Count), Num(r.Csat.Average),
        .. r.Csat.Distribution.Select(n => Num(n)), Num(r.Backlog),
    ]);

    private static string Num(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Num(double? n) => n?.ToString("0.###", CultureInfo.InvariantCulture) ?? "";

    /// <summary>RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled; CRLF line ends.</summary>
    public static void Line(StringBuilder csv, IReadOnlyList<string> fields)
    {
        for (var i = 0; i < fields.Count; i++)
        {
            var field = fields[i];
            // A spreadsheet would run a cell starting with = + - @ as a formula: such text is written as text.
            if (field.Length > 0 && field[0] is '=' or '+' or '-' or '@' && !double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            {
                field = "'" + field;
            }

            if (i > 0)
            {
                csv.Append(',');
            }

            if (field.AsSpan().IndexOfAny(",\"\r\n") >= 0)
            {
                csv.Append('"').Append(field.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
            }
            else
            {
                csv.Append(field);
            }
        }

        csv.Append("\r\n");
    }

    private sealed record ParsedQuery(ReportQuery Query, DateOnly FromDate, DateOnly ToDate, string Tz);

    /// <summary>The query, or null when anything is wrong (<see cref="Error"/> says what).</summary>
    private static ParsedQuery? Parse(IQueryCollection q) => Validate(q).Parsed;

    private static ProblemHttpResult Error(IQueryCollection q) => Validate(q).Problem!;

    private static (ParsedQuery? Parsed, ProblemHttpResult? Problem) Validate(IQueryCollection q)
    {
        var tzText = q["tz"].ToString();
        if (!TryOffset(tzText, out var offset))
        {
            return (null, Problems.Invalid("tz must be an offset from UTC: Z or ±HH:MM, at most 14 hours."));
        }

        var today = DateOnly.FromDateTime(DateTimeOffset.UtcNow.ToOffset(offset).DateTime);
        DateOnly from, to;
        if (!TryDate(q["to"].ToString(), today.AddDays(1), out to) || !TryDate(q["from"].ToString(), to.AddDays(-7), out from))
        {
            return (null, Problems.Invalid("from and to must be days: yyyy-MM-dd."));
        }

        if (to <= from)
        {
            return (null, Problems.Create(StatusCodes.Status400BadRequest, ReportErrorCodes.InvalidRange, "to must be after from (the range is [from, to))."));
        }

        if (to.DayNumber - from.DayNumber > MaxDays)
        {
            return (null, Problems.Create(StatusCodes.Status400BadRequest, ReportErrorCodes.InvalidRange, $"A report covers at most {MaxDays} days."));
        }

        var groupBy = q["groupBy"].ToString() is { Length: > 0 } g ? g : ReportGroupBy.None;
        if (Array.IndexOf(ReportGroupBy.All, groupBy) < 0)
        {
            return (null, Problems.Invalid("groupBy must be none, agent, team or inbox."));
        }

        string? Name(string key) => q[key].ToString() is { Length: > 0 } v ? v : null;
        var (agent, team, inbox) = (Name("agent"), Name("team"), Name("inbox"));
        if (new[] { agent, team, inbox }.Any(v => v is not null && !Tenancy.IsValidName(v)))
        {
            return (null, Problems.Invalid("agent, team and inbox must be ids: 1-64 characters of a-z, 0-9, '-', '_', '.'."));
        }

        var query = new ReportQuery(Instant(from, offset), Instant(to, offset), (int)offset.TotalMinutes, groupBy, agent, team, inbox);
        return (new ParsedQuery(query, from, to, Format(offset)), null);
    }

    private static DateTimeOffset Instant(DateOnly day, TimeSpan offset) => new(day.ToDateTime(TimeOnly.MinValue), offset);

    private static bool TryDate(string text, DateOnly fallback, out DateOnly date)
    {
        if (text.Length == 0)
        {
            date = fallback;
            return true;
        }

        return DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date);
    }

    public static bool TryOffset(string text, out TimeSpan offset)
    {
        offset = TimeSpan.Zero;
        if (text is "" or "Z" or "z" or "UTC")
        {
            return true;
        }

        if (text.Length != 6 || text[0] is not ('+' or '-') || text[3] != ':'
            || !int.TryParse(text.AsSpan(1, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var hours)
            || !int.TryParse(text.AsSpan(4, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var minutes)
            || minutes >= 60 || (hours * 60) + minutes > 14 * 60)
        {
            return false;
        }

        offset = new TimeSpan(hours, minutes, 0) * (text[0] == '-' ? -1 : 1);
        return true;
    }

    private static string Format(TimeSpan offset) =>
        (offset < TimeSpan.Zero ? "-" : "+") + offset.Duration().ToString(@"hh\:mm", CultureInfo.InvariantCulture);
}

/// <summary>A report: the range as asked (days in the zone <see cref="Tz"/>), totals, days and groups (docs/reports.md).</summary>
public sealed record ReportResponse(DateOnly From, DateOnly To, string Tz, string GroupBy, ReportRow Totals, ReportDay[] Days, ReportRow[] Groups);
