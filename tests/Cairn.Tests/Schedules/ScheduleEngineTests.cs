using Cairn.Diagnostics;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Schedules;
using Cairn.Storage;
using Cairn.Tests.Support;
using Xunit.Abstractions;

namespace Cairn.Tests.Schedules;

/// <summary>Schedules on the in-memory store and a fake clock: slots, missed slots, overlap, and the operator's actions.</summary>
public sealed class ScheduleEngineTests(ITestOutputHelper output) : EngineTest(output)
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    private Flow<TestState> Report { get; } = Flow.Create<TestState>("report").Stage("build", (context, _) => Task.CompletedTask).Build();

    private CairnEngine Engine(ScheduleOptions? options = null, Flow<TestState>? flow = null, TimeSpan? interval = null) =>
        CreateEngine(flow ?? Report, o => o.PollInterval = TimeSpan.FromMinutes(10), b => b.AddSchedule("hourly", flow ?? Report, new TestState { Value = 7 }, ScheduleSpec.Every(interval ?? Hour), options));

    private async Task<IReadOnlyList<RunRecord>> RunsAsync() =>
        [.. (await Store.ListRunsAsync(new RunQuery { FlowName = "report", Limit = 1000 }, Ct)).OrderBy(r => r.RecoveryId, StringComparer.Ordinal)];

    private async Task AdvanceToAsync(CairnEngine engine, int slots, string what, bool finish = true)
    {
        for (var i = 0; i < slots; i++)
        {
            var next = (await Store.GetScheduleAsync("hourly", Ct))!.NextSlotAt!.Value;
            Time.Advance(next - Time.GetUtcNow());
            engine.WakeSchedules(); // As AdvanceAndWake does for claims: the loop's own timer may have been armed on the old time.
            await WaitUntilAsync(() => Store.GetScheduleAsync("hourly", Ct).Result!.NextSlotAt > next);
            if (finish && (await Store.GetScheduleAsync("hourly", Ct))!.LastRunId is { } last)
            {
                // An hour later the run has long ended; here it may not have yet, and the overlap policy would skip the next slot.
                await WaitForAsync(engine, last, r => r.Status.IsFinished(), "finished");
            }
        }

        Output.WriteLine($"{what}: at {Time.GetUtcNow():O}");
    }

    [Fact]
    public async Task Slots_EachStartsOneRunWithTheSlotInItsRecoveryId()
    {
        Time.SetUtcNow(new DateTimeOffset(2026, 12, 1, 9, 30, 0, TimeSpan.Zero));
        var engine = Engine();
        await engine.StartAsync();
        var schedule = (await Store.GetScheduleAsync("hourly", Ct))!;
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero), schedule.NextSlotAt);
        Assert.True(schedule.DefinedInCode);

        await AdvanceToAsync(engine, 3, "three slots");

        var runs = await RunsAsync();
        Assert.Equal(["schedule:hourly:2026-12-01T10:00:00Z", "schedule:hourly:2026-12-01T11:00:00Z", "schedule:hourly:2026-12-01T12:00:00Z"], runs.Select(r => r.RecoveryId));
        var last = (await Store.GetScheduleAsync("hourly", Ct))!;
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero), last.LastSlotAt);
        Assert.Contains(runs, r => r.Id == last.LastRunId);
        var outcome = await Within(engine.WaitForRunAsync(Report, runs[0].Id));
        Assert.Equal(7, outcome.Result!.Value);
    }

    [Theory]
    [InlineData(MissedSlotPolicy.Skip, 0)]
    [InlineData(MissedSlotPolicy.RunOnce, 1)]
    [InlineData(MissedSlotPolicy.RunAll, 3)]
    public async Task MissedSlots_WhileNoEngineRan_AreHandledByPolicyAtTheNextStart(MissedSlotPolicy policy, int started)
    {
        Time.SetUtcNow(new DateTimeOffset(2026, 12, 1, 9, 30, 0, TimeSpan.Zero));
        var options = new ScheduleOptions { MissedSlots = policy, MissedSlotLimit = 3 };
        var first = Engine(options);
        await first.StartAsync();
        await first.DisposeAsync();

        Time.Advance(TimeSpan.FromHours(5)); // 10:00 ... 14:00 pass with no engine; now 14:30
        var second = Engine(options);
        await second.StartAsync();
        await WaitUntilAsync(() => Store.GetScheduleAsync("hourly", Ct).Result!.NextSlotAt == new DateTimeOffset(2026, 12, 1, 15, 0, 0, TimeSpan.Zero));

        var runs = await RunsAsync();
        Assert.Equal(started, runs.Count);
        Assert.Equal(
            Enumerable.Range(15 - started, started).Select(h => $"schedule:hourly:2026-12-01T{h:00}:00:00Z"),
            runs.Select(r => r.RecoveryId));
        if (started < 5)
        {
            Assert.Contains(Logs.GetSnapshot(), r => r.Id.Id == CairnEventId.ScheduleSlotsSkipped && r.Message.Contains($"{5 - started} slot(s)", StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData(OverlapPolicy.Skip)]
    [InlineData(OverlapPolicy.Allow)]
    [InlineData(OverlapPolicy.Queue)]
    public async Task Overlap_ASlotWhileThePreviousRunIsUnfinished_ByPolicy(OverlapPolicy policy)
    {
        Time.SetUtcNow(new DateTimeOffset(2026, 12, 1, 9, 30, 0, TimeSpan.Zero));
        var release = NewGate();
        var slow = Flow.Create<TestState>("report").Stage("build", async (_, ct) => await release.Task.WaitAsync(ct)).Build();
        var engine = Engine(new ScheduleOptions { Overlap = policy }, slow, TimeSpan.FromSeconds(10));
        await engine.StartAsync();

        await AdvanceToAsync(engine, 1, "first slot", finish: false);
        Time.Advance(TimeSpan.FromSeconds(10)); // the second slot, 10 s later, while the first run is still building
        engine.WakeSchedules();
        await WaitUntilAsync(() => policy == OverlapPolicy.Queue || Store.GetScheduleAsync("hourly", Ct).Result!.LastSlotAt == Time.GetUtcNow());

        var runs = await RunsAsync();
        Assert.Equal(policy == OverlapPolicy.Allow ? 2 : 1, runs.Count);
        if (policy == OverlapPolicy.Queue)
        {
            release.TrySetResult();
            await Within(engine.WaitForRunAsync(slow, runs[0].Id));
            await WaitUntilAsync(() =>
            {
                engine.WakeSchedules();
                return RunsAsync().Result.Count == 2;
            });
            Assert.Equal("schedule:hourly:2026-12-01T09:30:20Z", (await RunsAsync())[1].RecoveryId);
        }
    }

    [Fact]
    public async Task Operator_PauseResumeTriggerDelete()
    {
        Time.SetUtcNow(new DateTimeOffset(2026, 12, 1, 9, 30, 0, TimeSpan.Zero));
        var engine = Engine();
        await engine.StartAsync();

        await engine.Operator.PauseScheduleAsync("hourly");
        Time.Advance(TimeSpan.FromHours(2)); // 10:00 and 11:00 pass while paused
        engine.WakeSchedules();
        var triggered = await engine.Operator.TriggerScheduleAsync("hourly"); // runs although paused
        await WaitUntilAsync(() => Store.GetScheduleAsync("hourly", Ct).Result!.TriggeredAt is null);
        var runs = await RunsAsync();
        Assert.Equal([$"schedule:hourly:manual:2026-12-01T11:30:00.0000000Z"], runs.Select(r => r.RecoveryId));
        Assert.Equal(triggered.TriggeredAt, Time.GetUtcNow());

        var resumed = await engine.Operator.ResumeScheduleAsync("hourly");
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero), resumed.NextSlotAt); // the paused slots are skipped
        await AdvanceToAsync(engine, 1, "after resuming");
        Assert.Equal(2, (await RunsAsync()).Count);

        await engine.Operator.DeleteScheduleAsync("hourly");
        Assert.Empty(await engine.Operator.ListSchedulesAsync());
        await Assert.ThrowsAsync<ScheduleNotFoundException>(() => engine.Operator.PauseScheduleAsync("hourly"));
        Assert.Equal("No schedule is named 'hourly'; 'cairn schedules list' shows them.", (await Assert.ThrowsAsync<ScheduleNotFoundException>(() => engine.Operator.DeleteScheduleAsync("hourly"))).Message);
    }

    [Fact]
    public async Task RuntimeSchedule_CreatedByTheOperator_StartsRuns_CodeSchedulesCannotBeChangedThere()
    {
        Time.SetUtcNow(new DateTimeOffset(2026, 12, 1, 9, 30, 0, TimeSpan.Zero));
        var engine = Engine();
        await engine.StartAsync();

        var created = await engine.Operator.SaveScheduleAsync("every-15", "report", new TestState { Value = 15 }, ScheduleSpec.Every(TimeSpan.FromMinutes(15)));
        Assert.False(created.DefinedInCode);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 9, 45, 0, TimeSpan.Zero), created.NextSlotAt);
        Time.Advance(TimeSpan.FromMinutes(15));
        engine.WakeSchedules();
        await WaitUntilAsync(() => Store.GetScheduleAsync("every-15", Ct).Result!.LastRunId is not null);
        var run = (await Store.GetScheduleAsync("every-15", Ct))!.LastRunId!.Value;
        Assert.Equal(15, (await Within(engine.WaitForRunAsync(Report, run))).Result!.Value);

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => engine.Operator.SaveScheduleAsync("hourly", "report", new TestState(), ScheduleSpec.Every(Hour)));
        Assert.Contains("defined in code", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CodeScheduleChanged_IsUpdatedAtTheNextStart_ItsPauseKept()
    {
        Time.SetUtcNow(new DateTimeOffset(2026, 12, 1, 9, 30, 0, TimeSpan.Zero));
        var first = Engine();
        await first.StartAsync();
        await first.Operator.PauseScheduleAsync("hourly");
        await first.DisposeAsync();

        var second = Engine(interval: TimeSpan.FromMinutes(20));
        await second.StartAsync();

        var schedule = (await Store.GetScheduleAsync("hourly", Ct))!;
        Assert.Equal(ScheduleSpec.Every(TimeSpan.FromMinutes(20)), schedule.Spec);
        Assert.True(schedule.Paused);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 9, 40, 0, TimeSpan.Zero), schedule.NextSlotAt);
        Assert.Contains(Logs.GetSnapshot(), r => r.Id.Id == CairnEventId.SchedulesReconciled && r.Message.Contains("0 created, 1 updated", StringComparison.Ordinal));
    }

    [Fact]
    public void AddSchedule_BadNameOrOptionsOrTwoOfOneName_AreRefused()
    {
        var builder = CairnEngine.CreateBuilder().UseInMemoryStore();
        Assert.Contains("the name 'bad name' is invalid", Assert.Throws<ArgumentException>(() => builder.AddSchedule("bad name", Report, new TestState(), ScheduleSpec.Every(Hour))).Message, StringComparison.Ordinal);
        Assert.Contains("MissedSlotLimit is 0", Assert.Throws<ArgumentException>(() => builder.AddSchedule("s", Report, new TestState(), ScheduleSpec.Every(Hour), new ScheduleOptions { MissedSlotLimit = 0 })).Message, StringComparison.Ordinal);
        builder.AddSchedule("twice", Report, new TestState(), ScheduleSpec.Every(Hour)).AddSchedule("twice", Report, new TestState(), ScheduleSpec.Every(Hour));
        Assert.Equal("Two schedules are named 'twice' (flows 'report' and 'report'); schedule names must be unique.", Assert.Throws<InvalidOperationException>(builder.Build).Message);
    }
}
