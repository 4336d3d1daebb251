using System.Runtime.InteropServices;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Serialization;
using Cairn.Storage;
using Cairn.Tests.Support;
using Xunit.Abstractions;

namespace Cairn.Tests.Runs;

/// <summary>A checkpoint that fails its checksum is quarantined: never resumed from, shown to operators, re-run around.</summary>
public sealed class QuarantineTests(ITestOutputHelper output) : EngineTest(output)
{
    [Fact]
    public async Task Resume_LatestCheckpointDamaged_FailsPermanentlyNamingRunPointSequenceAndStore()
    {
        var (_, _, run) = await RunToQuarantineAsync();

        var failed = await GetRunAsync(run);
        Assert.Equal(RunStatus.Failed, failed.Status);
        Assert.Equal(1, failed.RetriesUsed); // The first failure's retry only: the quarantine uses none of the other two.
        Assert.Contains($"CheckpointCorruptedException: Run {run} is quarantined: its checkpoint 2 at recovery point 'transformed'", failed.LastError, StringComparison.Ordinal);
        Assert.Contains("in store InMemoryRunStore is corrupt: its checksum does not match its data", failed.LastError, StringComparison.Ordinal);
        Assert.Contains("re-run the run from an earlier kept checkpoint", failed.LastError, StringComparison.Ordinal);
        var last = (await GetEventsAsync(run))[^1];
        Assert.Equal(RunEventKind.Failed, last.Kind);
        Assert.Contains("quarantined", last.Message, StringComparison.Ordinal);
        Assert.Contains("not retried: the error is permanent", last.Message, StringComparison.Ordinal);
        Assert.Equal(1, Counter["load"]);
        Assert.Equal(1, Counter["transform"]);
        Assert.Equal(1, Counter["write"]);
    }

    [Fact]
    public async Task Operator_QuarantinedRun_ShowsItAndRefusesAPlainRerunNamingTheEarlierCheckpoint()
    {
        var (engine, _, run) = await RunToQuarantineAsync();

        var shown = await engine.Operator.GetRunAsync(run);
        var latest = await engine.Operator.GetLatestCheckpointAsync(run);
        var plain = await Assert.ThrowsAsync<CheckpointCorruptedException>(() => engine.RerunAsync(run));
        var chosen = await Assert.ThrowsAsync<CheckpointCorruptedException>(() => engine.RerunAsync(run, new RerunOptions { CheckpointSequence = 2 }));

        Assert.True(shown!.IsQuarantined);
        Assert.False(latest!.ChecksumMatches);
        Assert.Equal(
            $"Run {run} cannot be re-run from there: its last recovery point 'transformed' (checkpoint 2) is corrupt: its checksum does not match its data, " +
            $"so the checkpoint is quarantined and kept unchanged for inspection. Re-run it from an earlier kept checkpoint instead — #1 'loaded' — " +
            $"with RerunOptions.CheckpointSequence (cairn runs rerun {run} --from #1). Nothing changed.",
            plain.Message);
        Assert.Contains("checkpoint 2 at recovery point 'transformed' is corrupt", chosen.Message, StringComparison.Ordinal);
        Assert.Contains("Re-run it from an earlier kept checkpoint instead — #1 'loaded'", chosen.Message, StringComparison.Ordinal);
        var after = await GetRunAsync(run);
        Assert.Equal((RunStatus.Failed, 2L), (after.Status, after.CheckpointSequence));
        Assert.Equal(RunEventKind.Failed, (await GetEventsAsync(run))[^1].Kind);
    }

    [Fact]
    public async Task RerunFromEarlierCheckpoint_QuarantinedRun_CompletesWithoutTheDamagedCheckpoint()
    {
        var (engine, flow, run) = await RunToQuarantineAsync();

        await engine.RerunAsync(run, new RerunOptions { CheckpointSequence = 1, Message = "re-run around the damaged checkpoint" });
        var outcome = await Within(engine.WaitForRunAsync(flow, run));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(["load", "transform", "write"], outcome.Result!.Trace);
        Assert.Equal(1, Counter["load"]);
        Assert.Equal(2, Counter["transform"]);
        Assert.False((await engine.Operator.GetRunAsync(run))!.IsQuarantined);
    }

    [Fact]
    public async Task Rerun_WithAnEditedStateForTheDamagedCheckpoint_IsAllowedAndCompletes()
    {
        var (engine, flow, run) = await RunToQuarantineAsync();

        await engine.RerunAsync(run, new RerunOptions { CheckpointSequence = 2 }, new TestState { Trace = ["load", "transform", "edited"] });
        var outcome = await Within(engine.WaitForRunAsync(flow, run));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(["load", "transform", "edited", "write"], outcome.Result!.Trace);
    }

    [Fact]
    public async Task Rerun_IntactLatestCheckpoint_IsNotRefused()
    {
        var flow = Flow.Create<TestState>("intact")
            .Stage("load", Counter.Step("load"))
            .RecoveryPoint("loaded")
            .Stage("write", (c, _) => Counter.Hit("write") == 1 ? throw new InvalidOperationException("the target is down") : Task.CompletedTask)
            .Retry(RetryPolicy.None)
            .Build();
        var engine = CreateEngine(flow);
        var failed = await Within(engine.RunAsync(flow, new TestState()));

        await engine.RerunAsync(failed.RunId);
        var outcome = await Within(engine.WaitForRunAsync(flow, failed.RunId));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.False((await engine.Operator.GetRunAsync(failed.RunId))!.IsQuarantined);
    }

    /// <summary>
    /// Runs a flow whose stage 'write' damages the latest checkpoint (at 'transformed', sequence 2) as a bad disk would and
    /// fails; the retry resumes from the damaged checkpoint and quarantines it.
    /// </summary>
    private async Task<(CairnEngine Engine, Flow<TestState> Flow, RunId Run)> RunToQuarantineAsync()
    {
        var flow = Flow.Create<TestState>("quarantine")
            .Stage("load", Counter.Step("load"))
            .RecoveryPoint("loaded")
            .Stage("transform", Counter.Step("transform"))
            .RecoveryPoint("transformed")
            .Stage("write", async (context, _) =>
            {
                if (Counter.Hit("write") == 1)
                {
                    // The in-memory store hands out its own array: flipping a byte of it damages the stored checkpoint.
                    var stored = (await Store.GetRecoveryDataAsync(context.RunId, Ct)).Checkpoint!.State;
                    MemoryMarshal.AsMemory(stored).Span[1] ^= 0x01;
                    throw new InvalidOperationException("the target is down");
                }

                context.State.Trace.Add("write");
            })
            .Retry(new RetryPolicy { MaxRetries = 3, Interval = TimeSpan.FromSeconds(1) })
            .Build();
        var engine = CreateEngine(flow, o => o.CheckpointsToKeep = 3);
        var run = await engine.StartRunAsync(flow, new TestState());
        await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);
        AdvanceAndWake(engine, TimeSpan.FromSeconds(1));
        await WaitForStatusAsync(engine, run.Id, RunStatus.Failed);
        return (engine, flow, run.Id);
    }
}
