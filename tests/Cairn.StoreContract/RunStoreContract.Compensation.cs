using Cairn.Runs;
using Cairn.Storage;

namespace Cairn.StoreContract;

public abstract partial class RunStoreContract
{
    private const string Undo = """{"undo":["reserve-stock"],"undoing":true}""";

    [Fact]
    public async Task SaveCheckpointAsync_KeepsTheCompensationText_AndReturnsItWithTheCheckpoint()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(1) with { Compensation = """{"undo":["a"]}""" }, keep: 3, Ct);
        Assert.Equal("""{"undo":["a"]}""", (await Store.GetRecoveryDataAsync(run.Id, Ct)).Checkpoint!.Compensation);

        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(2), keep: 3, Ct);
        Assert.Null((await Store.GetRecoveryDataAsync(run.Id, Ct)).Checkpoint!.Compensation);
    }

    [Fact]
    public async Task RequestRerunFromAsync_CopiesTheChosenCheckpointsCompensationText()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(1) with { Compensation = """{"undo":["a"]}""" }, keep: 3, Ct);
        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(2), keep: 3, Ct);
        await Store.TransitionAsync(claimed.Lease, Failure(), Ct);

        await Store.RequestRerunFromAsync(run.Id, 1, null, "re-run", Ct);

        var copy = (await Store.GetRecoveryDataAsync(run.Id, Ct)).Checkpoint!;
        Assert.Equal((3L, """{"undo":["a"]}"""), (copy.Sequence, copy.Compensation));
    }

    [Theory]
    [InlineData(RunStatus.Running)]
    [InlineData(RunStatus.WaitingForRetry)]
    [InlineData(RunStatus.Interrupted)]
    [InlineData(RunStatus.Failed)]
    public async Task RequestCompensationAsync_AppendsACopyOfTheLatestCheckpointWithTheText_AndMakesTheRunPendingUnderANewEpoch(RunStatus status)
    {
        var before = await CreateWithCheckpointsAsync(status, count: 2);
        var previous = (await Store.GetRecoveryDataAsync(before.Id, Ct)).Checkpoint!;
        Time.Advance(TimeSpan.FromSeconds(3));

        var after = await Store.Operations().RequestCompensationAsync(before.Id, Undo, "cancelled with compensation from the command line", Ct);

        Assert.Equal(after, await Store.GetRunAsync(before.Id, Ct));
        Assert.Equal(StoreRules.CompensationRequested(before, 3, Time.GetUtcNow()), after);
        var copy = (await Store.GetRecoveryDataAsync(before.Id, Ct)).Checkpoint!;
        Assert.Equal((3L, previous.Position, previous.RecoveryPoint, previous.StatusMessage, previous.Checksum, Undo),
            (copy.Sequence, copy.Position, copy.RecoveryPoint, copy.StatusMessage, copy.Checksum, copy.Compensation));
        Assert.True(previous.State.Span.SequenceEqual(copy.State.Span));
        var requested = (await Store.GetEventsAsync(before.Id, Ct))[^1];
        Assert.Equal((RunEventKind.CompensationRequested, "cancelled with compensation from the command line", "point-2", Time.GetUtcNow()),
            (requested.Kind, requested.Message, requested.RecoveryPoint, requested.Time));
    }

    [Fact]
    public async Task RequestCompensationAsync_OnARunningRun_FencesItsOwner_AndTheNextClaimGetsTheCopy()
    {
        var run = await CreateAsync();
        var owner = Assert.Single(await ClaimAsync(NodeA));
        await Store.SaveCheckpointAsync(owner.Lease, CheckpointAt(1), keep: 3, Ct);

        await Store.Operations().RequestCompensationAsync(run.Id, Undo, "compensate", Ct);

        await Assert.ThrowsAsync<RunOwnershipLostException>(() => Store.SaveCheckpointAsync(owner.Lease, CheckpointAt(2), keep: 3, Ct));
        var next = Assert.Single(await ClaimAsync(NodeB));
        Assert.Equal((run.Id, 3L), (next.Run.Id, next.Lease.Epoch));
        Assert.Equal(Undo, (await Store.GetRecoveryDataAsync(run.Id, Ct)).Checkpoint!.Compensation);
    }

    [Theory]
    [InlineData(RunStatus.Completed)]
    [InlineData(RunStatus.Cancelled)]
    public async Task RequestCompensationAsync_OnAFinishedRun_ThrowsInvalidStateAndChangesNothing(RunStatus status)
    {
        var run = await CreateInStatusAsync(status);
        var before = await SnapshotAsync(run.Id);

        var error = await Assert.ThrowsAsync<InvalidRunStateException>(() => Store.Operations().RequestCompensationAsync(run.Id, Undo, "compensate", Ct));

        Assert.Equal(status, error.Status);
        await AssertUnchangedAsync(before);
    }

    [Fact]
    public async Task RequestCompensationAsync_WithoutACheckpoint_ThrowsCheckpointNotFoundAndChangesNothing()
    {
        var run = await CreateAsync();
        var before = await SnapshotAsync(run.Id);

        await Assert.ThrowsAsync<CheckpointNotFoundException>(() => Store.Operations().RequestCompensationAsync(run.Id, Undo, "compensate", Ct));

        await AssertUnchangedAsync(before);
    }

    [Fact]
    public async Task RequestCompensationAsync_UnknownRun_ThrowsRunNotFound() =>
        await Assert.ThrowsAsync<RunNotFoundException>(() => Store.Operations().RequestCompensationAsync(RunId.New(), Undo, "compensate", Ct));

    [Fact]
    public async Task TransitionAsync_ToCompensated_FinishesTheRun_WhichCanThenBePurgedButNotReRunCancelledOrCompensated()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(1), keep: 3, Ct);

        await Store.TransitionAsync(claimed.Lease, new RunTransition(RunStatus.Compensated, RunEventKind.Compensated, "1 stage compensated"), Ct);

        var compensated = await Store.GetRunAsync(run.Id, Ct);
        Assert.Equal((RunStatus.Compensated, Time.GetUtcNow()), (compensated!.Status, compensated.FinishedAt));
        await Assert.ThrowsAsync<InvalidRunStateException>(() => Store.RequestRerunAsync(run.Id, "again", Ct));
        await Assert.ThrowsAsync<InvalidRunStateException>(() => Store.CancelRunAsync(run.Id, "cancel", Ct));
        await Assert.ThrowsAsync<InvalidRunStateException>(() => Store.Operations().RequestCompensationAsync(run.Id, Undo, "compensate", Ct));
        Time.Advance(TimeSpan.FromDays(2));
        Assert.Equal(1, await Store.PurgeAsync(Time.GetUtcNow() - TimeSpan.FromDays(1), Ct));
        Assert.Null(await Store.GetRunAsync(run.Id, Ct));
    }
}
