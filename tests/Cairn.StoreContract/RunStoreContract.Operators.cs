using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Serialization;
using Cairn.Storage;

namespace Cairn.StoreContract;

public abstract partial class RunStoreContract
{
    // ---- Re-runs

    [Theory]
    [InlineData(RunStatus.Failed)]
    [InlineData(RunStatus.WaitingForRetry)]
    [InlineData(RunStatus.Interrupted)]
    [InlineData(RunStatus.Cancelled)]
    public async Task RequestRerunAsync_RerunnableRun_BecomesPendingDueNowKeepingCheckpointAndRetries(RunStatus status)
    {
        var before = await CreateInStatusAsync(status);
        Time.Advance(TimeSpan.FromSeconds(30));

        var rerun = await Store.RequestRerunAsync(before.Id, "re-run by operator", Ct);

        var now = Time.GetUtcNow();
        Assert.Equal(RunStatus.Pending, rerun.Status);
        Assert.Equal(now, rerun.DueAt);
        Assert.Null(rerun.FinishedAt);
        Assert.Equal(now, rerun.UpdatedAt);
        Assert.Equal(before.RetriesUsed, rerun.RetriesUsed);
        Assert.Equal(before.Attempt, rerun.Attempt);
        Assert.Equal(before.CheckpointSequence, rerun.CheckpointSequence);
        Assert.Equal(before.LastRecoveryPoint, rerun.LastRecoveryPoint);
        Assert.Equal(rerun, await Store.GetRunAsync(before.Id, Ct));
        Assert.Equal(1, (await Store.GetRecoveryDataAsync(before.Id, Ct)).Checkpoint?.Sequence);
        Assert.Equal(
            new RunEvent(now, RunEventKind.RerunRequested, before.Attempt, "re-run by operator") { RecoveryPoint = before.LastRecoveryPoint },
            (await Store.GetEventsAsync(before.Id, Ct))[^1]);
        var resumed = Assert.Single(await ClaimAsync(NodeB, flows: [before.FlowName]));
        Assert.Equal(before.Attempt + 1, resumed.Run.Attempt);
    }

    [Fact]
    public async Task RequestRerunAsync_WaitingForRetry_DoesNotUseUpARetry()
    {
        var waiting = await CreateInStatusAsync(RunStatus.WaitingForRetry);
        Assert.Equal(1, waiting.RetriesUsed);

        var rerun = await Store.RequestRerunAsync(waiting.Id, "re-run by operator", Ct);

        Assert.Equal(1, rerun.RetriesUsed);
        Assert.Equal(Time.GetUtcNow(), rerun.DueAt);
    }

    [Theory]
    [InlineData(RunStatus.Pending)]
    [InlineData(RunStatus.Running)]
    [InlineData(RunStatus.Completed)]
    public async Task RequestRerunAsync_PendingRunningOrCompletedRun_ThrowsInvalidRunState(RunStatus status)
    {
        var before = await CreateInStatusAsync(status);
        var events = await Store.GetEventsAsync(before.Id, Ct);

        var error = await Assert.ThrowsAsync<InvalidRunStateException>(() => Store.RequestRerunAsync(before.Id, "re-run", Ct));

        Assert.Equal(before.Id, error.RunId);
        Assert.Equal(status, error.Status);
        Assert.Equal(before, await Store.GetRunAsync(before.Id, Ct));
        Assert.Equal(events, await Store.GetEventsAsync(before.Id, Ct));
    }

    [Fact]
    public async Task RequestRerunAsync_UnknownRun_ThrowsRunNotFound()
    {
        var id = RunId.New();

        var error = await Assert.ThrowsAsync<RunNotFoundException>(() => Store.RequestRerunAsync(id, "re-run", Ct));

        Assert.Equal(id, error.RunId);
    }

    // ---- Re-runs from a chosen checkpoint

    [Fact]
    public async Task GetCheckpointsAsync_KeptCheckpoints_ListsThemNewestFirstWithoutState()
    {
        var run = await CreateWithCheckpointsAsync(RunStatus.Failed, count: 3);

        var kept = await Store.GetCheckpointsAsync(run.Id, Ct);

        Assert.Equal([3L, 2L, 1L], kept.Select(c => c.Sequence));
        var oldest = kept[^1];
        Assert.Equal(FlowPath.Of(1), oldest.Position);
        Assert.Equal("point-1", oldest.RecoveryPoint);
        Assert.Equal("step 1 done", oldest.StatusMessage);
        Assert.Equal(StateChecksum(1), oldest.Checksum);
        Assert.Equal(State(1).Length, oldest.StateSize);
        Assert.Equal(run.CreatedAt + TimeSpan.FromSeconds(1), oldest.CreatedAt);
        Assert.Equal(run.CreatedAt + TimeSpan.FromSeconds(3), kept[0].CreatedAt);
    }

    [Fact]
    public async Task GetCheckpointAsync_KeptCheckpoint_ReturnsItWithItsState()
    {
        var run = await CreateWithCheckpointsAsync(RunStatus.Failed, count: 3);

        var oldest = await Store.GetCheckpointAsync(run.Id, 1, Ct);
        var latest = await Store.GetCheckpointAsync(run.Id, 3, Ct);

        Assert.NotNull(oldest);
        Assert.Equal((1L, FlowPath.Of(1), "point-1", "step 1 done", StateChecksum(1), run.CreatedAt + TimeSpan.FromSeconds(1)),
            (oldest.Sequence, oldest.Position, oldest.RecoveryPoint, oldest.StatusMessage, oldest.Checksum, oldest.CreatedAt));
        Assert.Equal(State(1), oldest.State.ToArray());
        Assert.Equal(State(3), latest!.State.ToArray());
        Assert.Equal(run.CreatedAt + TimeSpan.FromSeconds(3), latest.CreatedAt);
    }

    [Fact]
    public async Task GetCheckpointAsync_UnknownRunOrSequence_ReturnsNull()
    {
        var run = await CreateWithCheckpointsAsync(RunStatus.Failed, count: 2);

        Assert.Null(await Store.GetCheckpointAsync(RunId.New(), 1, Ct));
        Assert.Null(await Store.GetCheckpointAsync(run.Id, 3, Ct));
        Assert.Null(await Store.GetCheckpointAsync(run.Id, 0, Ct));
    }

    [Fact]
    public async Task GetCheckpointsAsync_UnknownRunOrNoCheckpoint_ReturnsEmpty()
    {
        var pending = await CreateAsync();

        Assert.Empty(await Store.GetCheckpointsAsync(RunId.New(), Ct));
        Assert.Empty(await Store.GetCheckpointsAsync(pending.Id, Ct));
    }

    [Theory]
    [InlineData(RunStatus.Failed)]
    [InlineData(RunStatus.WaitingForRetry)]
    [InlineData(RunStatus.Interrupted)]
    [InlineData(RunStatus.Cancelled)]
    public async Task RequestRerunFromAsync_OlderKeptCheckpoint_CopiesItAsTheLatestAndMakesTheRunPending(RunStatus status)
    {
        var before = await CreateWithCheckpointsAsync(status, count: 3);
        Time.Advance(TimeSpan.FromSeconds(30));

        var rerun = await Store.RequestRerunFromAsync(before.Id, 1, state: null, "re-run by operator", Ct);

        var now = Time.GetUtcNow();
        Assert.Equal(
            before with
            {
                Status = RunStatus.Pending,
                DueAt = now,
                FinishedAt = null,
                UpdatedAt = now,
                Position = "1",
                LastRecoveryPoint = "point-1",
                StatusMessage = "step 1 done",
                CheckpointSequence = 4,
            },
            rerun);
        Assert.Equal(rerun, await Store.GetRunAsync(before.Id, Ct));
        var kept = await Store.GetCheckpointsAsync(before.Id, Ct);
        Assert.Equal([4L, 3L, 2L, 1L], kept.Select(c => c.Sequence));
        Assert.Equal(new CheckpointSummary(4, FlowPath.Of(1), "point-1", "step 1 done", StateChecksum(1), now, State(1).Length), kept[0]);
        Assert.Equal(
            new RunEvent(now, RunEventKind.RerunRequested, before.Attempt,
                "re-run by operator: resumes from recovery point 'point-1' (checkpoint 1, copied as checkpoint 4) with its saved state")
            {
                RecoveryPoint = "point-1",
            },
            (await Store.GetEventsAsync(before.Id, Ct))[^1]);

        var resumed = Assert.Single(await ClaimAsync(NodeB, flows: [before.FlowName]));
        Assert.Equal(before.Attempt + 1, resumed.Run.Attempt);
        Assert.Equal(4, resumed.Run.CheckpointSequence);
        Assert.EndsWith("from recovery point 'point-1'", (await Store.GetEventsAsync(before.Id, Ct))[^1].Message, StringComparison.Ordinal);
        var data = await Store.GetRecoveryDataAsync(before.Id, Ct);
        var checkpoint = Assert.IsType<Checkpoint>(data.Checkpoint);
        Assert.Equal((4L, FlowPath.Of(1), "point-1", "step 1 done", StateChecksum(1)), (checkpoint.Sequence, checkpoint.Position, checkpoint.RecoveryPoint, checkpoint.StatusMessage, checkpoint.Checksum));
        Assert.Equal(State(1), checkpoint.State.ToArray());
        Assert.Equal(Input, data.Input?.ToArray());
    }

    [Fact]
    public async Task RequestRerunFromAsync_EditedState_StoresItWithAFreshChecksum()
    {
        var before = await CreateWithCheckpointsAsync(RunStatus.Failed, count: 3);
        var edited = "{\"step\":2,\"fixed\":true}"u8.ToArray();

        var rerun = await Store.RequestRerunFromAsync(before.Id, 2, edited, "re-run by operator", Ct);

        Assert.Equal(("2", "point-2", 4L), (rerun.Position, rerun.LastRecoveryPoint, rerun.CheckpointSequence));
        var checkpoint = Assert.IsType<Checkpoint>((await Store.GetRecoveryDataAsync(before.Id, Ct)).Checkpoint);
        Assert.Equal(4, checkpoint.Sequence);
        Assert.Equal("point-2", checkpoint.RecoveryPoint);
        Assert.Equal(edited, checkpoint.State.ToArray());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(edited)), checkpoint.Checksum);
        Assert.Equal(edited.Length, (await Store.GetCheckpointsAsync(before.Id, Ct))[0].StateSize);
        var original = Assert.Single(await Store.GetCheckpointsAsync(before.Id, Ct), k => k.Sequence == 2);
        Assert.Equal((StateChecksum(2), State(2).Length), (original.Checksum, original.StateSize));
        Assert.Equal(
            "re-run by operator: resumes from recovery point 'point-2' (checkpoint 2, copied as checkpoint 4) with an edited state",
            (await Store.GetEventsAsync(before.Id, Ct))[^1].Message);
    }

    [Fact]
    public async Task RequestRerunFromAsync_LatestCheckpointWithKeepOne_CopiesItAndTheNextCheckpointPrunesTheRest()
    {
        var before = await CreateWithCheckpointsAsync(RunStatus.Failed, count: 3, keep: 1);
        Assert.Equal([3L], (await Store.GetCheckpointsAsync(before.Id, Ct)).Select(c => c.Sequence));

        await Store.RequestRerunFromAsync(before.Id, 3, "{\"step\":30}"u8.ToArray(), "re-run by operator", Ct);

        Assert.Equal([4L, 3L], (await Store.GetCheckpointsAsync(before.Id, Ct)).Select(c => c.Sequence));
        var resumed = Assert.Single(await ClaimAsync(NodeB, flows: [before.FlowName]));
        await Store.SaveCheckpointAsync(resumed.Lease, CheckpointAt(resumed.Run.CheckpointSequence + 1), keep: 1, Ct);
        Assert.Equal([5L], (await Store.GetCheckpointsAsync(before.Id, Ct)).Select(c => c.Sequence));
    }

    [Fact]
    public async Task RequestRerunFromAsync_UnknownSequence_ThrowsCheckpointNotFoundAndChangesNothing()
    {
        var before = await CreateWithCheckpointsAsync(RunStatus.Failed, count: 3, keep: 2);
        var snapshot = await SnapshotAsync(before.Id);

        var error = await Assert.ThrowsAsync<CheckpointNotFoundException>(
            () => Store.RequestRerunFromAsync(before.Id, 1, "{}"u8.ToArray(), "re-run by operator", Ct));

        Assert.Equal(before.Id, error.RunId);
        Assert.Equal([3L, 2L], error.Kept.Select(c => c.Sequence));
        Assert.Contains($"Run {before.Id} keeps no checkpoint 1", error.Message, StringComparison.Ordinal);
        Assert.Contains("#3 'point-3', #2 'point-2'", error.Message, StringComparison.Ordinal);
        await AssertUnchangedAsync(snapshot);
        Assert.Equal([3L, 2L], (await Store.GetCheckpointsAsync(before.Id, Ct)).Select(c => c.Sequence));
    }

    [Theory]
    [InlineData(RunStatus.Pending)]
    [InlineData(RunStatus.Running)]
    [InlineData(RunStatus.Completed)]
    public async Task RequestRerunFromAsync_PendingRunningOrCompletedRun_ThrowsInvalidRunStateAndChangesNothing(RunStatus status)
    {
        var before = await CreateInStatusAsync(status);
        var snapshot = await SnapshotAsync(before.Id);

        var error = await Assert.ThrowsAsync<InvalidRunStateException>(
            () => Store.RequestRerunFromAsync(before.Id, 1, "{}"u8.ToArray(), "re-run by operator", Ct));

        Assert.Equal(before.Id, error.RunId);
        Assert.Equal(status, error.Status);
        await AssertUnchangedAsync(snapshot);
    }

    [Fact]
    public async Task RequestRerunFromAsync_Options_ChooseTheNewestKeptCheckpointOfARecoveryPointOrTheLatest()
    {
        var run = await CreateAsync("flow-loop");
        var claimed = Assert.Single(await ClaimAsync(NodeA, flows: [run.FlowName]));
        string[] points = ["item", "total", "item"];
        for (var sequence = 1; sequence <= points.Length; sequence++)
        {
            await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(sequence) with { RecoveryPoint = points[sequence - 1] }, keep: 5, Ct);
        }

        await Store.TransitionAsync(claimed.Lease, Failure(), Ct);

        var item = await Store.RequestRerunFromAsync(run.Id, new RerunOptions { RecoveryPoint = "item" }, Ct);
        Assert.Equal(("3", "item", 4L), (item.Position, item.LastRecoveryPoint, item.CheckpointSequence));
        await FailAgainAsync(run.FlowName);

        var total = await Store.RequestRerunFromAsync(run.Id, new RerunOptions { RecoveryPoint = "total", Message = "by ops" }, Ct);
        Assert.Equal(("2", "total", 5L), (total.Position, total.LastRecoveryPoint, total.CheckpointSequence));
        Assert.StartsWith("by ops: resumes from recovery point 'total' (checkpoint 2,", (await Store.GetEventsAsync(run.Id, Ct))[^1].Message, StringComparison.Ordinal);
        await FailAgainAsync(run.FlowName);

        var latest = await Store.RequestRerunFromAsync(run.Id, new RerunOptions { State = "{\"edited\":1}"u8.ToArray() }, Ct);
        Assert.Equal(("2", "total", 6L), (latest.Position, latest.LastRecoveryPoint, latest.CheckpointSequence));
        Assert.Equal("{\"edited\":1}"u8.ToArray(), (await Store.GetRecoveryDataAsync(run.Id, Ct)).Checkpoint?.State.ToArray());
        Assert.Equal(
            "re-run requested: resumes from recovery point 'total' (checkpoint 5, copied as checkpoint 6) with an edited state",
            (await Store.GetEventsAsync(run.Id, Ct))[^1].Message);

        async Task FailAgainAsync(string flow)
        {
            var again = Assert.Single(await ClaimAsync(NodeA, flows: [flow]));
            await Store.TransitionAsync(again.Lease, Failure(), Ct);
        }
    }

    [Fact]
    public async Task RequestRerunFromAsync_OptionsNameAPointNotKept_ThrowsCheckpointNotFoundAndChangesNothing()
    {
        var before = await CreateWithCheckpointsAsync(RunStatus.Failed, count: 2);
        var snapshot = await SnapshotAsync(before.Id);

        var error = await Assert.ThrowsAsync<CheckpointNotFoundException>(
            () => Store.RequestRerunFromAsync(before.Id, new RerunOptions { RecoveryPoint = "point-9", State = "{}"u8.ToArray() }, Ct));

        Assert.Equal(
            $"Run {before.Id} keeps no checkpoint at recovery point 'point-9'; its kept checkpoints, newest first, are #2 'point-2', #1 'point-1'. " +
            "CairnOptions.CheckpointsToKeep sets how many a run keeps.",
            error.Message);
        await AssertUnchangedAsync(snapshot);
    }

    [Fact]
    public async Task RequestRerunFromAsync_EditedStateForACheckpointHoldingBranchStates_ThrowsAndChangesNothing()
    {
        var run = await CreateAsync("flow-parallel");
        var claimed = Assert.Single(await ClaimAsync(NodeA, flows: [run.FlowName]));
        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(1) with { Position = FlowPath.Of(3, -1), RecoveryPoint = "bank-read" }, keep: 3, Ct);
        await Store.TransitionAsync(claimed.Lease, Failure(), Ct);
        var snapshot = await SnapshotAsync(run.Id);

        var error = await Assert.ThrowsAsync<StateSerializationException>(
            () => Store.RequestRerunFromAsync(run.Id, new RerunOptions { RecoveryPoint = "bank-read", State = "{}"u8.ToArray() }, Ct));

        Assert.Contains("cannot resume from 'bank-read' (checkpoint 1) with an edited state", error.Message, StringComparison.Ordinal);
        await AssertUnchangedAsync(snapshot);
        var rerun = await Store.RequestRerunFromAsync(run.Id, new RerunOptions { RecoveryPoint = "bank-read" }, Ct);
        Assert.Equal(("3/-1", RunStatus.Pending), (rerun.Position, rerun.Status));
    }

    [Fact]
    public async Task RequestRerunFromAsync_UnknownRun_ThrowsRunNotFound()
    {
        var id = RunId.New();

        var error = await Assert.ThrowsAsync<RunNotFoundException>(() => Store.RequestRerunFromAsync(id, 1, state: null, "re-run", Ct));

        Assert.Equal(id, error.RunId);
    }

    // ---- Cancelling

    [Theory]
    [InlineData(RunStatus.Pending)]
    [InlineData(RunStatus.Running)]
    [InlineData(RunStatus.WaitingForRetry)]
    [InlineData(RunStatus.Interrupted)]
    [InlineData(RunStatus.Failed)]
    public async Task CancelRunAsync_UnfinishedOrFailedRun_CancelsAndIncreasesEpoch(RunStatus status)
    {
        var before = await CreateInStatusAsync(status);
        var checkpoint = (await Store.GetRecoveryDataAsync(before.Id, Ct)).Checkpoint;
        Time.Advance(TimeSpan.FromSeconds(30));

        var cancelled = await Store.CancelRunAsync(before.Id, "cancelled by operator", Ct);

        var now = Time.GetUtcNow();
        Assert.Equal(RunStatus.Cancelled, cancelled.Status);
        Assert.Equal(before.LeaseEpoch + 1, cancelled.LeaseEpoch);
        Assert.Equal(now, cancelled.FinishedAt);
        Assert.Equal(now, cancelled.UpdatedAt);
        Assert.Null(cancelled.DueAt);
        Assert.Null(cancelled.LeaseExpiresAt);
        Assert.Equal(cancelled, await Store.GetRunAsync(before.Id, Ct));
        Assert.Equal(checkpoint?.Sequence, (await Store.GetRecoveryDataAsync(before.Id, Ct)).Checkpoint?.Sequence);
        Assert.Equal(new RunEvent(now, RunEventKind.Cancelled, before.Attempt, "cancelled by operator"), (await Store.GetEventsAsync(before.Id, Ct))[^1]);
        Assert.Empty(await ClaimAsync(NodeB, flows: [before.FlowName]));
    }

    [Theory]
    [InlineData(RunStatus.Completed)]
    [InlineData(RunStatus.Cancelled)]
    public async Task CancelRunAsync_CompletedOrCancelledRun_ThrowsInvalidRunState(RunStatus status)
    {
        var before = await CreateInStatusAsync(status);

        var error = await Assert.ThrowsAsync<InvalidRunStateException>(() => Store.CancelRunAsync(before.Id, "cancel", Ct));

        Assert.Equal(status, error.Status);
        Assert.Equal(before, await Store.GetRunAsync(before.Id, Ct));
    }

    [Fact]
    public async Task CancelRunAsync_UnknownRun_ThrowsRunNotFound()
    {
        var id = RunId.New();

        var error = await Assert.ThrowsAsync<RunNotFoundException>(() => Store.CancelRunAsync(id, "cancel", Ct));

        Assert.Equal(id, error.RunId);
    }

    // ---- Purging

    [Fact]
    public async Task PurgeAsync_FinishedBeforeCutoff_DeletesRunsWithAllTheirData()
    {
        var completed = await CreateInStatusAsync(RunStatus.Completed, "f1", "completed");
        var failed = await CreateInStatusAsync(RunStatus.Failed, "f2", "failed");
        var cancelled = await CreateInStatusAsync(RunStatus.Cancelled, "f3", "cancelled");
        Time.Advance(TimeSpan.FromHours(1));

        var purged = await Store.PurgeAsync(Time.GetUtcNow(), Ct);

        Assert.Equal(3, purged);
        foreach (var run in new[] { completed, failed, cancelled })
        {
            Assert.Null(await Store.GetRunAsync(run.Id, Ct));
            Assert.Null(await Store.FindRunAsync(run.FlowName, run.RecoveryId, Ct));
            Assert.Empty(await Store.GetEventsAsync(run.Id, Ct));
            Assert.Null(await Store.GetResultAsync(run.Id, Ct));
            await Assert.ThrowsAsync<RunNotFoundException>(() => Store.GetRecoveryDataAsync(run.Id, Ct));
            if (await CountCheckpointsAsync(run.Id) is { } count)
            {
                Assert.Equal(0, count);
            }
        }

        Assert.Empty(await Store.ListRunsAsync(new RunQuery(), Ct));
    }

    [Fact]
    public async Task PurgeAsync_NewerAndUnfinishedRuns_AreKept()
    {
        var old = await CreateInStatusAsync(RunStatus.Completed, "f1", "old");
        var pending = await CreateAsync(Flow, "pending");
        var waiting = await CreateInStatusAsync(RunStatus.WaitingForRetry, "f2", "waiting");
        var interrupted = await CreateInStatusAsync(RunStatus.Interrupted, "f3", "interrupted");
        var running = await CreateInStatusAsync(RunStatus.Running, "f4", "running");
        Time.Advance(TimeSpan.FromHours(1));
        var cutoff = Time.GetUtcNow();
        var atCutoff = await CreateInStatusAsync(RunStatus.Failed, "f5", "at-cutoff");
        Time.Advance(TimeSpan.FromHours(1));
        var newer = await CreateInStatusAsync(RunStatus.Completed, "f6", "newer");

        var purged = await Store.PurgeAsync(cutoff, Ct);

        Assert.Equal(1, purged);
        Assert.Null(await Store.GetRunAsync(old.Id, Ct));
        foreach (var kept in new[] { pending, waiting, interrupted, running, atCutoff, newer })
        {
            Assert.Equal(kept, await Store.GetRunAsync(kept.Id, Ct));
            Assert.NotEmpty(await Store.GetEventsAsync(kept.Id, Ct));
        }

        Assert.Equal(Result, (await Store.GetResultAsync(newer.Id, Ct))?.ToArray());
    }

    [Fact]
    public async Task PurgeAsync_PurgedRecoveryId_CanBeUsedAgain()
    {
        var old = await CreateInStatusAsync(RunStatus.Completed, Flow, "order-42");
        Time.Advance(TimeSpan.FromDays(1));
        Assert.Equal(1, await Store.PurgeAsync(Time.GetUtcNow(), Ct));

        var result = await Store.CreateRunAsync(NewRun(recoveryId: "order-42"), Ct);

        Assert.True(result.Created);
        Assert.NotEqual(old.Id, result.Run.Id);
        Assert.Single(await Store.GetEventsAsync(result.Run.Id, Ct));
    }

    [Fact]
    public async Task PurgeAsync_NothingFinished_ReturnsZero()
    {
        var run = await CreateAsync();
        Time.Advance(TimeSpan.FromDays(1));

        Assert.Equal(0, await Store.PurgeAsync(Time.GetUtcNow(), Ct));
        Assert.Equal(run, await Store.GetRunAsync(run.Id, Ct));
    }
}
