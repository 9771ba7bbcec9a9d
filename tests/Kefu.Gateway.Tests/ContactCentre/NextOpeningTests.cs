using Kefu.Contracts.Messages;

namespace Kefu.Gateway.Tests.ContactCentre;

/// <summary>When an inbox opens next (the widget's "back at 09:00 (Asia/Shanghai)"): plain arithmetic, no cluster.</summary>
public sealed class NextOpeningTests
{
    private static readonly BusinessDay[] Weekdays =
        [.. new[] { DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Wednesday, DayOfWeek.Thursday, DayOfWeek.Friday }
            .Select(d => new BusinessDay(d, new TimeOnly(9, 0), new TimeOnly(18, 0)))];

    private static readonly BusinessHours Shanghai = new("Asia/Shanghai", Weekdays);

    private static DateTimeOffset At(string local) => DateTimeOffset.Parse(local, System.Globalization.CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("2026-12-07T08:00:00+08:00", "2026-12-07T09:00:00+08:00")] // Monday, before opening
    [InlineData("2026-12-07T18:00:00+08:00", "2026-12-08T09:00:00+08:00")] // closing time itself is closed
    [InlineData("2026-12-07T23:30:00+08:00", "2026-12-08T09:00:00+08:00")] // before midnight
    [InlineData("2026-12-08T00:30:00+08:00", "2026-12-08T09:00:00+08:00")] // after midnight
    [InlineData("2026-12-11T18:30:00+08:00", "2026-12-14T09:00:00+08:00")] // Friday evening: Monday
    [InlineData("2026-12-12T10:00:00+08:00", "2026-12-14T09:00:00+08:00")] // Saturday
    [InlineData("2026-12-06T10:00:00Z", "2026-12-07T09:00:00+08:00")]      // Sunday 18:00 in Shanghai, asked in UTC
    public void A_closed_inbox_opens_at_the_next_opening_in_its_own_time_zone(string now, string expected)
    {
        var next = Shanghai.NextOpening(At(now));
        Assert.Equal(At(expected), next);
        Assert.Equal(TimeSpan.FromHours(8), next!.Value.Offset); // its clock time is the inbox's: "09:00"
        Assert.True(Shanghai.IsOpen(next.Value));
        Assert.False(Shanghai.IsOpen(next.Value.AddMinutes(-1)));
    }

    [Fact]
    public void An_open_inbox_is_open_now_and_one_never_open_has_no_next_opening()
    {
        var monday = At("2026-12-07T10:00:00+08:00");
        Assert.Equal(monday, Shanghai.NextOpening(monday));

        var always = new BusinessHours("Asia/Shanghai",
            [.. Enum.GetValues<DayOfWeek>().Select(d => new BusinessDay(d, TimeOnly.MinValue, TimeOnly.MaxValue))]);
        Assert.Equal(At("2026-12-13T23:59:30+08:00"), always.NextOpening(At("2026-12-13T23:59:30+08:00")));

        Assert.Null(new BusinessHours("Asia/Shanghai", []).NextOpening(monday));
    }

    [Fact]
    public void An_inbox_open_one_day_a_week_opens_a_week_later_once_today_has_passed()
    {
        var mondays = new BusinessHours("Asia/Shanghai", [new BusinessDay(DayOfWeek.Monday, new TimeOnly(8, 0), new TimeOnly(9, 0))]);
        Assert.Equal(At("2026-12-14T08:00:00+08:00"), mondays.NextOpening(At("2026-12-07T10:00:00+08:00")));
    }

    [Fact]
    public void Daylight_saving_changes_move_the_instant_not_the_clock_time()
    {
        // New York springs forward on Sunday 8 March 2026: Friday evening is EST (-5), Monday's 09:00 is EDT (-4).
        var newYork = new BusinessHours("America/New_York", Weekdays);
        var next = newYork.NextOpening(At("2026-03-06T22:00:00-05:00"));
        Assert.Equal(At("2026-03-09T13:00:00Z"), next);
        Assert.Equal(TimeSpan.FromHours(-4), next!.Value.Offset);

        // Paris skips 02:00-03:00 on Sunday 29 March 2026: an inbox opening at 02:30 opens when the clock jumps to 03:00,
        // the first minute it is open.
        var paris = new BusinessHours("Europe/Paris", [new BusinessDay(DayOfWeek.Sunday, new TimeOnly(2, 30), new TimeOnly(5, 0))]);
        var jump = paris.NextOpening(At("2026-03-28T12:00:00Z"));
        Assert.Equal(At("2026-03-29T03:00:00+02:00"), jump);
        Assert.True(paris.IsOpen(jump!.Value));
        Assert.False(paris.IsOpen(jump.Value.AddMinutes(-1)));

        // Paris shows 02:30 twice on Sunday 25 October 2026: the inbox opens at the first.
        Assert.Equal(At("2026-10-25T02:30:00+02:00"), paris.NextOpening(At("2026-10-24T12:00:00Z")));
    }
}
