namespace Kefu.Contracts.Messages;

/// <summary>
/// When a week of <see cref="BusinessHours"/> opens next. Plain arithmetic on the inbox's IANA time zone, so that the
/// widget's "back at 09:00 (Asia/Shanghai)" agrees with <see cref="BusinessHours.IsOpen"/> across midnight, weekends
/// and daylight-saving changes.
/// </summary>
public static class BusinessHoursSchedule
{
    /// <summary>Eight days: today's later openings, the next six days, and today's weekday again a week on.</summary>
    private const int DaysAhead = 8;

    /// <summary>No real time zone skips more than this at once (most skip an hour; Lord Howe half an hour).</summary>
    private static readonly TimeSpan MaxGap = TimeSpan.FromHours(3);

    public static DateTimeOffset? NextOpening(BusinessHours hours, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(hours);
        if (hours.Days is not { Length: > 0 })
        {
            return null;
        }

        var zone = TimeZoneInfo.FindSystemTimeZoneById(hours.TimeZone);
        if (hours.IsOpen(now))
        {
            return TimeZoneInfo.ConvertTime(now, zone);
        }

        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, zone).DateTime);
        DateTimeOffset? best = null;
        for (var ahead = 0; ahead < DaysAhead; ahead++)
        {
            var date = today.AddDays(ahead);
            foreach (var day in hours.Days)
            {
                if (day.Day != date.DayOfWeek)
                {
                    continue;
                }

                var opening = Instant(zone, date.ToDateTime(day.Open));
                if (opening > now && (best is null || opening < best))
                {
                    best = opening;
                }
            }

            if (best is not null)
            {
                // Openings are found day by day in order: nothing on a later date can come first.
                break;
            }
        }

        return best is { } found ? TimeZoneInfo.ConvertTime(found, zone) : null;
    }

    /// <summary>
    /// The instant a local clock time names. In a spring-forward gap the clock never shows it: the inbox opens when the
    /// clock jumps (the first valid minute after it), which is also the first moment <see cref="BusinessHours.IsOpen"/>
    /// says open. A fall-back time shown twice opens at its first showing.
    /// </summary>
    private static DateTimeOffset Instant(TimeZoneInfo zone, DateTime local)
    {
        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        if (zone.IsInvalidTime(local))
        {
            var limit = local + MaxGap;
            local = new DateTime(local.Ticks - (local.Ticks % TimeSpan.TicksPerMinute), DateTimeKind.Unspecified);
            while (zone.IsInvalidTime(local) && local < limit)
            {
                local = local.AddMinutes(1);
            }
        }

        var offset = zone.IsAmbiguousTime(local) ? zone.GetAmbiguousTimeOffsets(local).Max() : zone.GetUtcOffset(local);
        return new DateTimeOffset(local, offset);
    }
}
