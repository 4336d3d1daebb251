using Cairn.Flows;
using Cairn.Runs;
using Cairn.Serialization;
using Cairn.Storage;
using Cairn.Tests.Support;
using Xunit.Abstractions;

namespace Cairn.Tests.Runs;

public sealed class PurgeTests(ITestOutputHelper output) : EngineTest(output)
{
    // Long timers keep the fake clock cheap to move by days: every timer fires on the way.
    private static readonly Action<CairnOptions> SlowTimers = o =>
    {
        o.PollInterval = TimeSpan.FromHours(1);
        o.LeaseDuration = TimeSpan.FromHours(3);
    };

    [Fact]
    public async Task PurgeSettings_TheEnginesOperatorKnowsThem_AStoreAloneDoesNot()
    {
        var flow = Flow.Create<TestState>("settings").Stage("work", (_, _) => Task.CompletedTask).Build();
        await using var engine = CreateEngine(flow, o =>
        {
            o.RetentionPeriod = TimeSpan.FromDays(3);
            o.PurgeInterval = TimeSpan.FromMinutes(10);
        });

        Assert.Equal(new PurgeSettings(TimeSpan.FromDays(3), TimeSpan.FromMinutes(10)), engine.Operator.PurgeSettings);
        Assert.Null(RunOperator.Create(Store).PurgeSettings);
    }

    [Fact]
    public async Task PurgeAsync_OldFinishedRuns_DeletesThemAndKeepsUnfinishedAndRecentOnes()
    {
        var flow = Flow.Create<TestState>("purge")
            .Stage("work", (context, _) => context.State.Value < 0 ? throw new InvalidOperationException("negative") : Task.CompletedTask)
            .Retry(RetryPolicy.None)
            .Build();
        var engine = CreateEngine(flow, SlowTimers);
        var oldCompleted = await Within(engine.RunAsync(flow, new TestState { Value = 1 }));
        var oldFailed = await Within(engine.RunAsync(flow, new TestState { Value = -1 }));
        Assert.Equal(RunStatus.Failed, oldFailed.Status);
        var oldCancelled = await CreateElsewhereAsync("other-flow");
        await engine.CancelRunAsync(oldCancelled);
        var oldPending = await CreateElsewhereAsync("other-flow");

        Time.Advance(TimeSpan.FromDays(8));
        var recent = await Within(engine.RunAsync(flow, new TestState { Value = 2 }));

        var purged = await engine.PurgeAsync(TimeSpan.FromDays(7));

        Assert.Equal(3, purged);
        Assert.Null(await Store.GetRunAsync(oldCompleted.RunId, Ct));
        Assert.Null(await Store.GetRunAsync(oldFailed.RunId, Ct));
        Assert.Null(await Store.GetRunAsync(oldCancelled, Ct));
        Assert.Empty(await GetEventsAsync(oldCompleted.RunId));
        Assert.Null(await Store.GetResultAsync(oldCompleted.RunId, Ct));
        Assert.Equal(RunStatus.Pending, (await GetRunAsync(oldPending)).Status);
        Assert.Equal(RunStatus.Completed, (await GetRunAsync(recent.RunId)).Status);
        Assert.NotNull(await Store.GetResultAsync(recent.RunId, Ct));
    }

    [Fact]
    public async Task PurgeAsync_RunsFinishedJustInsideTheLimit_KeepsThem()
    {
        var flow = Flow.Create<TestState>("purge-edge").Stage("work", Counter.Step("work")).Build();
        var engine = CreateEngine(flow, SlowTimers);
        var run = await Within(engine.RunAsync(flow, new TestState()));
        Time.Advance(TimeSpan.FromDays(7));

        Assert.Equal(0, await engine.PurgeAsync(TimeSpan.FromDays(7)));
        Assert.NotNull(await Store.GetRunAsync(run.RunId, Ct));

        Time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(1, await engine.PurgeAsync(TimeSpan.FromDays(7)));
        Assert.Null(await Store.GetRunAsync(run.RunId, Ct));
    }

    [Fact]
    public async Task PurgeAsync_NegativeAge_Throws()
    {
        var flow = Flow.Create<TestState>("purge-negative").Stage("work", Counter.Step("work")).Build();
        var engine = CreateEngine(flow);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => engine.PurgeAsync(TimeSpan.FromDays(-1)));
    }

    [Fact]
    public async Task PurgeLoop_RetentionPeriodSet_PurgesOnScheduleAsClockAdvances()
    {
        var flow = Flow.Create<TestState>("scheduled-purge").Stage("work", Counter.Step("work")).Build();
        var engine = CreateEngine(flow, o =>
        {
            SlowTimers(o);
            o.RetentionPeriod = TimeSpan.FromDays(7);
            o.PurgeInterval = TimeSpan.FromHours(1);
        });
        var old = await Within(engine.RunAsync(flow, new TestState()));
        var oldFinished = (await GetRunAsync(old.RunId)).FinishedAt!.Value;
        Time.Advance(TimeSpan.FromDays(3));
        var newer = await Within(engine.RunAsync(flow, new TestState()));

        // Move minute by minute: the purge loop runs on the clock's timers, but arms its next one only after its purge has
        // run on the thread pool, so a step as long as the interval could pass before the timer exists and skip a purge.
        var purgedAt = (DateTimeOffset?)null;
        for (var minute = 0; minute < 24 * 60 * 6 && purgedAt is null; minute++)
        {
            Time.Advance(TimeSpan.FromMinutes(1));
            await Task.Yield();
            if (await Store.GetRunAsync(old.RunId, Ct) is null)
            {
                purgedAt = Time.GetUtcNow();
            }
        }

        Assert.NotNull(purgedAt);
        Assert.InRange(purgedAt.Value, oldFinished + TimeSpan.FromDays(7), oldFinished + TimeSpan.FromDays(7) + TimeSpan.FromHours(2));
        Assert.NotNull(await Store.GetRunAsync(newer.RunId, Ct));
    }

    [Fact]
    public async Task PurgeLoop_NoRetentionPeriod_PurgesNothing()
    {
        var flow = Flow.Create<TestState>("no-purge").Stage("work", Counter.Step("work")).Build();
        var engine = CreateEngine(flow, o =>
        {
            SlowTimers(o);
            o.RetentionPeriod = null;
        });
        var run = await Within(engine.RunAsync(flow, new TestState()));

        Time.Advance(TimeSpan.FromDays(30));

        Assert.NotNull(await Store.GetRunAsync(run.RunId, Ct));
    }

    private async Task<RunId> CreateElsewhereAsync(string flowName)
    {
        var input = new JsonStateSerializer().Serialize(new TestState());
        var id = RunId.New();
        var settings = new RunSettings(RetryPolicy.Default).ToJson();
        await Store.CreateRunAsync(new NewRun(id, flowName, 1, id.ToString(), input, Checksum.Compute(input), settings), Ct);
        return id;
    }
}
