using Cairn.Flows;
using Cairn.Runs;
using Cairn.Serialization;
using Cairn.Storage;
using Cairn.Tests.Support;
using Xunit.Abstractions;

namespace Cairn.Tests.Runs;

/// <summary>Operators re-run a run from a chosen earlier recovery point, optionally with an edited state.</summary>
public sealed class RerunFromTests(ITestOutputHelper output) : EngineTest(output)
{
    private volatile bool _failLastStage = true;

    [Fact]
    public async Task RerunAsync_FromFirstPointWithEditedState_RunsOnlyTheLaterStagesAgainWithTheEditedState()
    {
        var (engine, flow, failed) = await FailAfterThirdPointAsync();
        var edited = engine.Serializer.Serialize(new TestState { Trace = ["s1", "edited"], Value = 42 });
        _failLastStage = false;

        var rerun = await engine.RerunAsync(failed.Id, new RerunOptions { RecoveryPoint = "p1", State = edited, Message = "re-run by ops" });
        var outcome = await Within(engine.WaitForRunAsync(flow, failed.Id));

        Assert.Equal((RunStatus.Pending, "p1", 4L), (rerun.Status, rerun.LastRecoveryPoint, rerun.CheckpointSequence));
        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(["s1", "edited", "s2", "s3", "s4"], outcome.Result!.Trace);
        Assert.Equal(42 + 3, outcome.Result.Value); // s2, s3 and s4 each add one to the edited value.
        Assert.Equal((1, 2, 2, 2), (Counter["s1"], Counter["s2"], Counter["s3"], Counter["s4"]));
        var events = await GetEventsAsync(failed.Id);
        var requested = Assert.Single(events, e => e.Kind == RunEventKind.RerunRequested);
        Assert.Equal("re-run by ops: resumes from recovery point 'p1' (checkpoint 1, copied as checkpoint 4) with an edited state", requested.Message);
        Assert.Equal(1, requested.Attempt);
        var resumed = events.Last(e => e.Kind == RunEventKind.Started);
        Assert.Equal(2, resumed.Attempt);
        Assert.EndsWith("from recovery point 'p1'", resumed.Message, StringComparison.Ordinal);
        Assert.Equal(0, (await GetRunAsync(failed.Id)).RetriesUsed);
    }

    [Fact]
    public async Task RerunAsync_BySequenceWithTypedState_ResumesFromThatCheckpoint()
    {
        var (engine, flow, failed) = await FailAfterThirdPointAsync();
        var p2 = (await Store.GetCheckpointsAsync(failed.Id, Ct)).Single(c => c.RecoveryPoint == "p2");
        _failLastStage = false;

        await engine.RerunAsync(failed.Id, new RerunOptions { CheckpointSequence = p2.Sequence }, new TestState { Trace = ["typed"], Value = 7 });
        var outcome = await Within(engine.WaitForRunAsync(flow, failed.Id));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(["typed", "s3", "s4"], outcome.Result!.Trace);
        Assert.Equal((1, 1, 2, 2), (Counter["s1"], Counter["s2"], Counter["s3"], Counter["s4"]));
    }

    [Fact]
    public async Task RerunAsync_WithoutEditedState_ResumesWithTheCheckpointsState()
    {
        var (engine, flow, failed) = await FailAfterThirdPointAsync();
        _failLastStage = false;

        await engine.RerunAsync(failed.Id, new RerunOptions { RecoveryPoint = "p2" });
        var outcome = await Within(engine.WaitForRunAsync(flow, failed.Id));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(["s1", "s2", "s3", "s4"], outcome.Result!.Trace);
        Assert.Equal((1, 1, 2, 2), (Counter["s1"], Counter["s2"], Counter["s3"], Counter["s4"]));
        Assert.EndsWith("with its saved state", (await GetEventsAsync(failed.Id)).Single(e => e.Kind == RunEventKind.RerunRequested).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"Value":"not a number"}""", "cannot be read as TestState")]
    [InlineData("""{"Trace":""", "cannot be read as TestState")]
    [InlineData("null", "JSON null")]
    public async Task RerunAsync_EditedStateTheFlowCannotRead_ThrowsStateSerializationAndChangesNothing(string json, string expected)
    {
        var (engine, _, failed) = await FailAfterThirdPointAsync();
        var before = await SnapshotAsync(failed.Id);

        var error = await Assert.ThrowsAsync<StateSerializationException>(
            () => engine.RerunAsync(failed.Id, new RerunOptions { RecoveryPoint = "p1", State = System.Text.Encoding.UTF8.GetBytes(json) }));

        Assert.Contains($"The edited state for run {failed.Id}", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.EndsWith("Nothing changed.", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, await SnapshotAsync(failed.Id));
    }

    [Fact]
    public async Task RerunAsync_TypedStateOfAnotherType_ThrowsStateSerializationAndChangesNothing()
    {
        var (engine, _, failed) = await FailAfterThirdPointAsync();
        var before = await SnapshotAsync(failed.Id);

        var error = await Assert.ThrowsAsync<StateSerializationException>(
            () => engine.RerunAsync(failed.Id, new RerunOptions { RecoveryPoint = "p1" }, "not a TestState"));

        Assert.Contains("is a String, but the state of flow rerun-from v1 is a TestState", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, await SnapshotAsync(failed.Id));
    }

    [Fact]
    public async Task RerunAsync_RecoveryPointNotKept_ThrowsCheckpointNotFoundNamingTheKeptOnesAndChangesNothing()
    {
        var (engine, _, failed) = await FailAfterThirdPointAsync(keep: 2);
        var before = await SnapshotAsync(failed.Id);

        var error = await Assert.ThrowsAsync<CheckpointNotFoundException>(
            () => engine.RerunAsync(failed.Id, new RerunOptions { RecoveryPoint = "p1" }));

        Assert.Equal(
            $"Run {failed.Id} keeps no checkpoint at recovery point 'p1'; its kept checkpoints, newest first, are #3 'p3', #2 'p2'. " +
            "CairnOptions.CheckpointsToKeep sets how many a run keeps.",
            error.Message);
        Assert.Equal(before, await SnapshotAsync(failed.Id));
    }

    [Fact]
    public async Task RerunAsync_EditedStateAtAPointInsideAParallelStep_ThrowsAndChangesNothing()
    {
        var flow = Flow.Create<TestState>("rerun-parallel")
            .Parallel<int>(
                "both",
                p => p
                    .Branch("left", _ => 0, body => body.Stage("l1", (context, _) => Task.CompletedTask).RecoveryPoint("left-done"))
                    .Branch("right", _ => 0, body => body.Stage("r1", (context, _) => Task.CompletedTask)),
                (state, slices) => state.Value = slices.Count)
            .RecoveryPoint("merged")
            .Stage("fail", (context, _) => throw new InvalidOperationException("fail"))
            .Retry(RetryPolicy.None)
            .Build();
        var engine = CreateEngine(flow, o => o.CheckpointsToKeep = 5);
        var run = await engine.StartRunAsync(flow, new TestState());
        var failed = await WaitForStatusAsync(engine, run.Id, RunStatus.Failed);
        var before = await SnapshotAsync(failed.Id);

        var error = await Assert.ThrowsAsync<StateSerializationException>(
            () => engine.RerunAsync(failed.Id, new RerunOptions { RecoveryPoint = "left-done", State = engine.Serializer.Serialize(new TestState()) }));

        Assert.Contains("recovery point 'left-done' with an edited state: the point is inside parallel 'both'", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, await SnapshotAsync(failed.Id));
        await engine.RerunAsync(failed.Id, new RerunOptions { RecoveryPoint = "merged", State = engine.Serializer.Serialize(new TestState { Value = 9 }) });
        Assert.Equal("merged", (await GetRunAsync(failed.Id)).LastRecoveryPoint);
    }

    [Fact]
    public async Task RerunAsync_CompletedRun_ThrowsInvalidRunStateAndChangesNothing()
    {
        var (engine, flow, failed) = await FailAfterThirdPointAsync();
        _failLastStage = false;
        await engine.RerunAsync(failed.Id);
        Assert.True((await Within(engine.WaitForRunAsync(flow, failed.Id))).IsCompleted);
        var before = await SnapshotAsync(failed.Id);

        await Assert.ThrowsAsync<InvalidRunStateException>(
            () => engine.RerunAsync(failed.Id, new RerunOptions { RecoveryPoint = "p1", State = "{}"u8.ToArray() }));

        Assert.Equal(before, await SnapshotAsync(failed.Id));
    }

    [Fact]
    public async Task RerunAsync_BothRecoveryPointAndSequence_ThrowsArgumentException()
    {
        var (engine, _, failed) = await FailAfterThirdPointAsync();

        await Assert.ThrowsAsync<ArgumentException>(
            () => engine.RerunAsync(failed.Id, new RerunOptions { RecoveryPoint = "p1", CheckpointSequence = 1 }));
    }

    /// <summary>
    /// A flow s1, p1, s2, p2, s3, p3, s4 whose stages add their names to the trace and one to the value, with no retries and
    /// three checkpoints kept; its run fails in s4, after the third recovery point.
    /// </summary>
    private async Task<(CairnEngine Engine, Flow<TestState> Flow, RunRecord Failed)> FailAfterThirdPointAsync(int keep = 3)
    {
        Func<StageContext<TestState>, CancellationToken, Task> Step(string name) => (context, ct) =>
        {
            context.State.Value++;
            return Counter.Step(name)(context, ct);
        };

        var flow = Flow.Create<TestState>("rerun-from")
            .Stage("s1", Step("s1"))
            .RecoveryPoint("p1")
            .Stage("s2", Step("s2"))
            .RecoveryPoint("p2")
            .Stage("s3", Step("s3"))
            .RecoveryPoint("p3")
            .Stage("s4", (context, ct) =>
            {
                if (_failLastStage)
                {
                    Counter.Hit("s4");
                    throw new InvalidOperationException("s4 failed");
                }

                return Step("s4")(context, ct);
            })
            .Retry(RetryPolicy.None)
            .Build();
        var engine = CreateEngine(flow, o => o.CheckpointsToKeep = keep);
        var run = await engine.StartRunAsync(flow, new TestState());
        var failed = await WaitForStatusAsync(engine, run.Id, RunStatus.Failed);
        Assert.Equal("p3", failed.LastRecoveryPoint);
        return (engine, flow, failed);
    }

    private async Task<(RunRecord Run, string Events, string Checkpoints)> SnapshotAsync(RunId runId) =>
        (await GetRunAsync(runId),
            string.Join("\n", await GetEventsAsync(runId)),
            string.Join("\n", await Store.GetCheckpointsAsync(runId, Ct)));
}
