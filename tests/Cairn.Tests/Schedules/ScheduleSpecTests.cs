using Cairn.Schedules;

namespace Cairn.Tests.Schedules;

public sealed class ScheduleSpecTests
{
    private static readonly DateTimeOffset Midnight = new(2026, 3, 28, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Cron_InATimeZone_FollowsItsDaylightSavingChanges()
    {
        var spec = ScheduleSpec.Cron("30 2 * * *", "Europe/Berlin");

        // 28 March 2026 02:30 CET is 01:30 UTC; on 29 March 02:30 does not exist (clocks jump 02:00 -> 03:00): Cronos runs it at 03:00 CEST, 01:00 UTC.
        var first = spec.NextAfter(Midnight)!.Value;
        var second = spec.NextAfter(first)!.Value;
        var third = spec.NextAfter(second)!.Value;

        Assert.Equal(new DateTimeOffset(2026, 3, 28, 1, 30, 0, TimeSpan.Zero), first);
        Assert.Equal(new DateTimeOffset(2026, 3, 29, 1, 0, 0, TimeSpan.Zero), second);
        Assert.Equal(new DateTimeOffset(2026, 3, 30, 0, 30, 0, TimeSpan.Zero), third);
    }

    [Fact]
    public void Cron_FallBack_RunsTheAmbiguousHourOnce()
    {
        var spec = ScheduleSpec.Cron("30 2 * * *", "Europe/Berlin");

        // 25 October 2026: 02:30 happens twice (CEST, then CET); a daily job runs once, at the first.
        var slot = spec.NextAfter(new DateTimeOffset(2026, 10, 25, 0, 0, 0, TimeSpan.Zero))!.Value;
        var next = spec.NextAfter(slot)!.Value;

        Assert.Equal(new DateTimeOffset(2026, 10, 25, 0, 30, 0, TimeSpan.Zero), slot);
        Assert.Equal(new DateTimeOffset(2026, 10, 26, 1, 30, 0, TimeSpan.Zero), next);
    }

    [Fact]
    public void Every_FallsOnTheAnchorsGrid()
    {
        var spec = ScheduleSpec.Every(TimeSpan.FromMinutes(15), new DateTimeOffset(2026, 1, 1, 0, 5, 0, TimeSpan.Zero));

        Assert.Equal(new DateTimeOffset(2026, 3, 28, 0, 5, 0, TimeSpan.Zero), spec.NextAfter(Midnight));
        Assert.Equal(new DateTimeOffset(2026, 3, 28, 0, 20, 0, TimeSpan.Zero), spec.NextAfter(new DateTimeOffset(2026, 3, 28, 0, 5, 0, TimeSpan.Zero)));
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 5, 0, TimeSpan.Zero), spec.NextAfter(new DateTimeOffset(2025, 6, 1, 0, 0, 0, TimeSpan.Zero)));
    }

    [Fact]
    public void Parse_ReadsWhatToStringWrote_AndRefusesOtherText()
    {
        foreach (var spec in new[] { ScheduleSpec.Cron("*/5 * * * * *"), ScheduleSpec.Cron("0 9 * * MON-FRI", "America/New_York"), ScheduleSpec.Every(TimeSpan.FromHours(6)) })
        {
            Assert.Equal(spec, ScheduleSpec.Parse(spec.ToString()));
        }

        Assert.Equal("'hourly' is not a schedule: expected 'cron EXPRESSION @ TIMEZONE' or 'every INTERVAL from TIME'.", Assert.Throws<FormatException>(() => ScheduleSpec.Parse("hourly")).Message);
    }

    [Fact]
    public void BadSpecs_AreRefusedWithTheReason()
    {
        Assert.StartsWith("The cron expression '61 * * * *' cannot be read", Assert.Throws<ArgumentException>(() => ScheduleSpec.Cron("61 * * * *")).Message, StringComparison.Ordinal);
        Assert.StartsWith("The time zone 'Mars/Olympus' of cron expression '0 2 * * *' is unknown", Assert.Throws<ArgumentException>(() => ScheduleSpec.Cron("0 2 * * *", "Mars/Olympus")).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => ScheduleSpec.Every(TimeSpan.FromMilliseconds(500)));
    }

    [Theory]
    [InlineData(MissedSlotPolicy.Skip, new[] { 5 })]
    [InlineData(MissedSlotPolicy.RunOnce, new[] { 5 })]
    [InlineData(MissedSlotPolicy.RunAll, new[] { 3, 4, 5 })]
    public void Choose_MissedSlots_ByPolicy(MissedSlotPolicy policy, int[] expected)
    {
        var now = Midnight.AddHours(5);
        var due = Enumerable.Range(0, 6).Select(h => Midnight.AddHours(h)).ToList(); // 00:00 ... 05:00, the last one on time

        var chosen = ScheduleSlots.Choose(due, now, new ScheduleOptions { MissedSlots = policy, MissedSlotLimit = 3 });

        Assert.Equal(expected.Select(h => Midnight.AddHours(h)), chosen);
    }

    [Fact]
    public void Choose_OnlyMissedSlots_SkipStartsNothing_OnTimeSlotsAllStart()
    {
        var missed = new[] { Midnight, Midnight.AddHours(1) };
        Assert.Empty(ScheduleSlots.Choose(missed, Midnight.AddHours(3), new ScheduleOptions { MissedSlots = MissedSlotPolicy.Skip }));
        Assert.Equal([Midnight.AddHours(1)], ScheduleSlots.Choose(missed, Midnight.AddHours(3), new ScheduleOptions()));
        Assert.Equal([Midnight.AddHours(1)], ScheduleSlots.Choose(missed, Midnight.AddHours(1).AddSeconds(30), new ScheduleOptions { MissedSlots = MissedSlotPolicy.Skip }));
        var onTime = new[] { Midnight, Midnight.AddSeconds(30) };
        Assert.Equal(onTime, ScheduleSlots.Choose(onTime, Midnight.AddSeconds(50), new ScheduleOptions { MissedSlots = MissedSlotPolicy.Skip }));
    }

    [Fact]
    public void Due_ListsTheSlotsUpToNow_AndTheFirstAfter()
    {
        var (due, next) = ScheduleSlots.Due(ScheduleSpec.Every(TimeSpan.FromHours(1)), Midnight, Midnight.AddHours(2));

        Assert.Equal([Midnight, Midnight.AddHours(1), Midnight.AddHours(2)], due);
        Assert.Equal(Midnight.AddHours(3), next);
        Assert.Equal("schedule:nightly:2026-03-28T00:00:00Z", ScheduleSlots.RecoveryId("nightly", Midnight));
    }

    [Fact]
    public void Choose_ASlotExactlyAMinuteLate_IsStillOnTime_ASecondMoreIsMissed()
    {
        var slot = Midnight;
        var skip = new ScheduleOptions { MissedSlots = MissedSlotPolicy.Skip };

        Assert.Equal([slot], ScheduleSlots.Choose([slot], slot + ScheduleOptions.MissedAfter, skip));
        Assert.Empty(ScheduleSlots.Choose([slot], slot + ScheduleOptions.MissedAfter + TimeSpan.FromSeconds(1), skip));
        var both = new[] { slot, slot + ScheduleOptions.MissedAfter };
        Assert.Equal([both[1]], ScheduleSlots.Choose(both, slot + ScheduleOptions.MissedAfter + ScheduleOptions.MissedAfter, skip));
        Assert.Empty(ScheduleSlots.Choose([], Midnight, skip));
    }

    [Fact]
    public void Options_OutOfRange_SayWhichSettingIsWrong()
    {
        Assert.Null(new ScheduleOptions { MissedSlotLimit = 1 }.FindProblem());
        Assert.Null(new ScheduleOptions { MissedSlotLimit = 1000 }.FindProblem());
        Assert.Equal("MissedSlotLimit is 0; it must be between 1 and 1,000", new ScheduleOptions { MissedSlotLimit = 0 }.FindProblem());
        Assert.Equal("MissedSlotLimit is 1001; it must be between 1 and 1,000", new ScheduleOptions { MissedSlotLimit = 1001 }.FindProblem());
        Assert.Equal("MissedSlots 7 is not a policy", new ScheduleOptions { MissedSlots = (MissedSlotPolicy)7 }.FindProblem());
        Assert.Equal("Overlap 9 is not a policy", new ScheduleOptions { Overlap = (OverlapPolicy)9 }.FindProblem());
    }

    [Fact]
    public void Every_OneSecondIsTheShortest_AndASlotTimeItselfIsNotAfterItself()
    {
        var spec = ScheduleSpec.Every(TimeSpan.FromSeconds(1));
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ScheduleSpec.Every(TimeSpan.FromMilliseconds(999)));
        Assert.StartsWith("A schedule's interval must be at least one second.", error.Message, StringComparison.Ordinal);

        Assert.Equal(DateTimeOffset.UnixEpoch.AddSeconds(1), spec.NextAfter(DateTimeOffset.UnixEpoch));
        Assert.Equal(DateTimeOffset.UnixEpoch.AddSeconds(2), spec.NextAfter(DateTimeOffset.UnixEpoch.AddSeconds(1)));
        Assert.Equal(DateTimeOffset.UnixEpoch.AddSeconds(2), spec.NextAfter(DateTimeOffset.UnixEpoch.AddSeconds(1.5)));
        var hourly = ScheduleSpec.Every(TimeSpan.FromHours(1), Midnight);
        Assert.Equal(Midnight, hourly.NextAfter(Midnight.AddTicks(-1)));
        Assert.Equal(Midnight.AddHours(1), hourly.NextAfter(Midnight));
    }

    [Fact]
    public void Cron_AndParse_RefuseMissingOrUnreadableText()
    {
        Assert.Throws<ArgumentNullException>(() => ScheduleSpec.Cron(null!));
        Assert.Throws<ArgumentException>(() => ScheduleSpec.Cron("  "));
        Assert.Throws<ArgumentNullException>(() => ScheduleSpec.Parse(null!));
        var cron = Assert.Throws<FormatException>(() => ScheduleSpec.Parse("cron 99 * * * * @ UTC"));
        Assert.StartsWith("'cron 99 * * * * @ UTC' is not a schedule: The cron expression '99 * * * *' cannot be read", cron.Message, StringComparison.Ordinal);
        Assert.IsType<ArgumentException>(cron.InnerException);
        var every = Assert.Throws<FormatException>(() => ScheduleSpec.Parse("every soon from now"));
        Assert.StartsWith("'every soon from now' is not a schedule: ", every.Message, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => ScheduleSpec.Parse("cron  @ UTC"));
        Assert.Equal(ScheduleSpec.Cron("0 2 * * *", "UTC"), ScheduleSpec.Parse("cron 0 2 * * * @ UTC"));
    }
}
