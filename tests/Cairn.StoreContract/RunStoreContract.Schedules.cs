using System.Text;
using Cairn.Runs;
using Cairn.Schedules;
using Cairn.Storage;

namespace Cairn.StoreContract;

public abstract partial class RunStoreContract
{
    private IScheduleStore Schedules => Assert.IsAssignableFrom<IScheduleStore>(Store);

    private ScheduleRecord NightlySchedule(string name = "nightly") =>
        new(name, "orders", Encoding.UTF8.GetBytes("{\"order\":42}"), ScheduleSpec.Cron("0 2 * * *", "Europe/Berlin"))
        {
            Options = new ScheduleOptions { MissedSlots = MissedSlotPolicy.RunAll, MissedSlotLimit = 3, Overlap = OverlapPolicy.Queue },
            NextSlotAt = Time.GetUtcNow().AddHours(2),
            DefinedInCode = true,
        };

    [Fact]
    public async Task SaveScheduleAsync_NewSchedule_IsReadBackWithEveryField()
    {
        var saved = NightlySchedule() with { LastSlotAt = Time.GetUtcNow().AddHours(-22), LastRunId = RunId.New(), Paused = true, TriggeredAt = Time.GetUtcNow() };

        await Schedules.SaveScheduleAsync(saved, Ct);

        var read = Assert.IsType<ScheduleRecord>(await Schedules.GetScheduleAsync("nightly", Ct));
        Assert.True(read.SameDefinition(saved));
        Assert.Equal(
            (saved.Paused, saved.NextSlotAt, saved.LastSlotAt, saved.LastRunId, saved.TriggeredAt, Time.GetUtcNow(), Time.GetUtcNow()),
            (read.Paused, read.NextSlotAt, read.LastSlotAt, read.LastRunId, read.TriggeredAt, read.CreatedAt, read.UpdatedAt));
        Assert.Equal("cron 0 2 * * * @ Europe/Berlin", read.Spec.ToString());
        Assert.Null(await Schedules.GetScheduleAsync("weekly", Ct));
    }

    [Fact]
    public async Task SaveScheduleAsync_ExistingSchedule_ReplacesItKeepingItsCreationTime_ListIsByName()
    {
        await Schedules.SaveScheduleAsync(NightlySchedule("b-nightly"), Ct);
        await Schedules.SaveScheduleAsync(NightlySchedule("a-hourly") with { Spec = ScheduleSpec.Every(TimeSpan.FromHours(1)), DefinedInCode = false }, Ct);
        var created = Time.GetUtcNow();
        Time.Advance(TimeSpan.FromMinutes(5));

        await Schedules.SaveScheduleAsync(NightlySchedule("b-nightly") with { FlowName = "invoices", Paused = true }, Ct);

        var listed = await Schedules.ListSchedulesAsync(Ct);
        Assert.Equal(["a-hourly", "b-nightly"], listed.Select(s => s.Name));
        Assert.Equal("every 01:00:00 from 1970-01-01T00:00:00.0000000+00:00", listed[0].Spec.ToString());
        Assert.Equal(("invoices", true, created, Time.GetUtcNow()), (listed[1].FlowName, listed[1].Paused, listed[1].CreatedAt, listed[1].UpdatedAt));
    }

    [Fact]
    public async Task AdvanceScheduleAsync_MovesOnlyFromTheExpectedSlot_SoOneOfTwoClaimersWins()
    {
        var schedule = NightlySchedule();
        await Schedules.SaveScheduleAsync(schedule, Ct);
        var slot = schedule.NextSlotAt!.Value;
        var run = RunId.New();

        var first = await Schedules.AdvanceScheduleAsync("nightly", slot, slot.AddDays(1), slot, run, Ct);
        var second = await Schedules.AdvanceScheduleAsync("nightly", slot, slot.AddDays(1), slot, RunId.New(), Ct);

        Assert.True(first);
        Assert.False(second);
        var read = (await Schedules.GetScheduleAsync("nightly", Ct))!;
        Assert.Equal((slot.AddDays(1), slot, run), (read.NextSlotAt, read.LastSlotAt, read.LastRunId));
        Assert.True(await Schedules.AdvanceScheduleAsync("nightly", slot.AddDays(1), null, null, null, Ct));
        read = (await Schedules.GetScheduleAsync("nightly", Ct))!;
        Assert.Equal(((DateTimeOffset?)null, slot, run), (read.NextSlotAt, read.LastSlotAt, read.LastRunId));
        Assert.True(await Schedules.AdvanceScheduleAsync("nightly", null, slot.AddDays(2), null, null, Ct));
        Assert.False(await Schedules.AdvanceScheduleAsync("missing", null, slot, null, null, Ct));
    }

    [Fact]
    public async Task ClearScheduleTriggerAsync_OnlyTheRequestItHandled_RecordsTheRun()
    {
        var requested = Time.GetUtcNow();
        await Schedules.SaveScheduleAsync(NightlySchedule() with { TriggeredAt = requested }, Ct);
        var run = RunId.New();

        Assert.False(await Schedules.ClearScheduleTriggerAsync("nightly", requested.AddSeconds(1), run, Ct));
        Assert.True(await Schedules.ClearScheduleTriggerAsync("nightly", requested, run, Ct));

        var read = (await Schedules.GetScheduleAsync("nightly", Ct))!;
        Assert.Equal(((DateTimeOffset?)null, (RunId?)run), (read.TriggeredAt, read.LastRunId));
    }

    [Fact]
    public async Task DeleteScheduleAsync_DeletesOnlyThatSchedule()
    {
        await Schedules.SaveScheduleAsync(NightlySchedule("one"), Ct);
        await Schedules.SaveScheduleAsync(NightlySchedule("two"), Ct);

        Assert.True(await Schedules.DeleteScheduleAsync("one", Ct));
        Assert.False(await Schedules.DeleteScheduleAsync("one", Ct));

        Assert.Equal(["two"], (await Schedules.ListSchedulesAsync(Ct)).Select(s => s.Name));
    }
}
