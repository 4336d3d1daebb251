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
    // ---- Checkpoints

    [Fact]
    public async Task SaveCheckpointAsync_ValidLease_RoundTripsCheckpoint()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        Time.Advance(TimeSpan.FromSeconds(3));
        var checkpoint = new Checkpoint(1, FlowPath.Of(2, 0, 1), "after-select", "SELECT successful", new byte[] { 0, 1, 2, 255, 0 }, "sha256:abc");

        await Store.SaveCheckpointAsync(claimed.Lease, checkpoint, keep: 3, Ct);

        var data = await Store.GetRecoveryDataAsync(run.Id, Ct);
        var saved = Assert.IsType<Checkpoint>(data.Checkpoint);
        Assert.Equal(1, saved.Sequence);
        Assert.Equal(FlowPath.Of(2, 0, 1), saved.Position);
        Assert.Equal("after-select", saved.RecoveryPoint);
        Assert.Equal("SELECT successful", saved.StatusMessage);
        Assert.Equal(new byte[] { 0, 1, 2, 255, 0 }, saved.State.ToArray());
        Assert.Equal("sha256:abc", saved.Checksum);
        Assert.Equal(Time.GetUtcNow(), saved.CreatedAt);
        Assert.Equal(Input, data.Input?.ToArray());
    }

    [Fact]
    public async Task SaveCheckpointAsync_WithoutStatusMessage_RoundTripsNullMessage()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));

        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(1) with { StatusMessage = null, State = ReadOnlyMemory<byte>.Empty }, keep: 3, Ct);

        var saved = Assert.IsType<Checkpoint>((await Store.GetRecoveryDataAsync(run.Id, Ct)).Checkpoint);
        Assert.Null(saved.StatusMessage);
        Assert.Equal(0, saved.State.Length);
        Assert.Null((await Store.GetRunAsync(run.Id, Ct))?.StatusMessage);
        Assert.Equal("recovery point 'point-1' passed", (await Store.GetEventsAsync(run.Id, Ct))[^1].Message);
    }

    [Fact]
    public async Task SaveCheckpointAsync_ValidLease_MovesRunToCheckpoint()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        Time.Advance(TimeSpan.FromSeconds(3));

        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(1), keep: 3, Ct);
        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(2), keep: 3, Ct);

        var updated = await Store.GetRunAsync(run.Id, Ct);
        Assert.NotNull(updated);
        Assert.Equal("2", updated.Position);
        Assert.Equal("point-2", updated.LastRecoveryPoint);
        Assert.Equal("step 2 done", updated.StatusMessage);
        Assert.Equal(2, updated.CheckpointSequence);
        Assert.Equal(Time.GetUtcNow(), updated.UpdatedAt);
        Assert.Equal(RunStatus.Running, updated.Status);
        Assert.Equal(claimed.Run.LeaseEpoch, updated.LeaseEpoch);
        Assert.Equal(claimed.Run.LeaseExpiresAt, updated.LeaseExpiresAt);
    }

    [Fact]
    public async Task SaveCheckpointAsync_ValidLease_RecordsRecoveryPointPassedEvent()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));

        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(1), keep: 3, Ct);

        var events = await Store.GetEventsAsync(run.Id, Ct);
        Assert.Equal(
            new RunEvent(Time.GetUtcNow(), RunEventKind.RecoveryPointPassed, 1, "recovery point 'point-1' passed: step 1 done") { RecoveryPoint = "point-1" },
            events[^1]);
        Assert.Equal(3, events.Count);
    }

    [Fact]
    public async Task SaveCheckpointAsync_MoreThanKeep_KeepsOnlyTheNewest()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));

        for (var sequence = 1; sequence <= 5; sequence++)
        {
            Time.Advance(TimeSpan.FromSeconds(1));
            await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(sequence), keep: 2, Ct);
        }

        var latest = Assert.IsType<Checkpoint>((await Store.GetRecoveryDataAsync(run.Id, Ct)).Checkpoint);
        Assert.Equal(5, latest.Sequence);
        Assert.Equal("point-5", latest.RecoveryPoint);
        Assert.Equal(State(5), latest.State.ToArray());
        if (await CountCheckpointsAsync(run.Id) is { } count)
        {
            Assert.Equal(2, count);
        }

        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(6), keep: 1, Ct);
        Assert.Equal(6, (await Store.GetRecoveryDataAsync(run.Id, Ct)).Checkpoint?.Sequence);
        if (await CountCheckpointsAsync(run.Id) is { } countAfterKeepOne)
        {
            Assert.Equal(1, countAfterKeepOne);
        }
    }

    [Fact]
    public async Task SaveCheckpointAsync_LargeState_RoundTrips()
    {
        var input = RandomBytes(5 * 1024 * 1024, seed: 1);
        var state = RandomBytes(5 * 1024 * 1024, seed: 2);
        var run = (await Store.CreateRunAsync(NewRun(input: input), Ct)).Run;
        var claimed = Assert.Single(await ClaimAsync(NodeA));

        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(1) with { State = state }, keep: 3, Ct);

        var data = await Store.GetRecoveryDataAsync(run.Id, Ct);
        Assert.True(data.Input?.Span.SequenceEqual(input), "the 5 MB input did not round-trip");
        Assert.True(data.Checkpoint?.State.Span.SequenceEqual(state), "the 5 MB state did not round-trip");
    }

    // ---- Fencing

    [Fact]
    public async Task SaveCheckpointAsync_AfterCancel_ThrowsOwnershipLostAndChangesNothing()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(1), keep: 3, Ct);
        await Store.CancelRunAsync(run.Id, "cancelled by operator", Ct);
        var before = await SnapshotAsync(run.Id);
        Time.Advance(TimeSpan.FromSeconds(1));

        var error = await Assert.ThrowsAsync<RunOwnershipLostException>(() => Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(2), keep: 3, Ct));

        Assert.Equal(claimed.Lease, error.Lease);
        await AssertUnchangedAsync(before);
        Assert.Equal(RunStatus.Cancelled, before.Run.Status);
    }

    [Fact]
    public async Task FencedWrites_AfterReclaimByAnotherOwner_ThrowOwnershipLostAndChangeNothing()
    {
        var run = await CreateAsync();
        var stale = Assert.Single(await ClaimAsync(NodeA, lease: Lease));
        await Store.SaveCheckpointAsync(stale.Lease, CheckpointAt(1), keep: 3, Ct);
        Time.Advance(Lease + TimeSpan.FromSeconds(1));
        Assert.Equal(1, await Store.InterruptAbandonedRunsAsync(NodeB, exclusive: false, resumeAfter: TimeSpan.Zero, Ct));
        var current = Assert.Single(await ClaimAsync(NodeB));
        await Store.SaveCheckpointAsync(current.Lease, CheckpointAt(2), keep: 3, Ct);
        var before = await SnapshotAsync(run.Id);
        Time.Advance(TimeSpan.FromSeconds(1));

        await Assert.ThrowsAsync<RunOwnershipLostException>(() => Store.SaveCheckpointAsync(stale.Lease, CheckpointAt(3), keep: 1, Ct));
        await Assert.ThrowsAsync<RunOwnershipLostException>(() => Store.TransitionAsync(stale.Lease, Retry(TimeSpan.FromMinutes(1)), Ct));
        await Assert.ThrowsAsync<RunOwnershipLostException>(() => Store.CompleteRunAsync(stale.Lease, Result, "done", [], Ct));

        await AssertUnchangedAsync(before);
        Assert.Equal(RunStatus.Running, before.Run.Status);
        Assert.Equal(NodeB, before.Run.Owner);
        Assert.Equal(2, before.Checkpoint?.Sequence);
        Assert.Null(await Store.GetResultAsync(run.Id, Ct));
    }

    [Fact]
    public async Task TransitionAsync_AfterCancel_ThrowsOwnershipLostAndChangesNothing()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(1), keep: 3, Ct);
        await Store.CancelRunAsync(run.Id, "cancelled by operator", Ct);
        var before = await SnapshotAsync(run.Id);

        await Assert.ThrowsAsync<RunOwnershipLostException>(() => Store.TransitionAsync(claimed.Lease, Failure(), Ct));

        await AssertUnchangedAsync(before);
    }

    [Fact]
    public async Task CompleteRunAsync_AfterCancel_ThrowsOwnershipLostAndKeepsRecoveryData()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(1), keep: 3, Ct);
        await Store.CancelRunAsync(run.Id, "cancelled by operator", Ct);
        var before = await SnapshotAsync(run.Id);

        await Assert.ThrowsAsync<RunOwnershipLostException>(() => Store.CompleteRunAsync(claimed.Lease, Result, "done", [], Ct));

        await AssertUnchangedAsync(before);
        Assert.Equal(Input, before.Input);
        Assert.Null(await Store.GetResultAsync(run.Id, Ct));
    }

    [Fact]
    public async Task FencedWrites_RunNoLongerRunning_ThrowOwnershipLost()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        await Store.TransitionAsync(claimed.Lease, Failure(), Ct);
        var before = await SnapshotAsync(run.Id);

        await Assert.ThrowsAsync<RunOwnershipLostException>(() => Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(1), keep: 3, Ct));
        await Assert.ThrowsAsync<RunOwnershipLostException>(() => Store.TransitionAsync(claimed.Lease, Failure(), Ct));
        await Assert.ThrowsAsync<RunOwnershipLostException>(() => Store.CompleteRunAsync(claimed.Lease, Result, "done", [], Ct));

        await AssertUnchangedAsync(before);
    }

    [Fact]
    public async Task FencedWrites_UnknownRun_ThrowOwnershipLost()
    {
        var lease = new RunLease(RunId.New(), NodeA, 1);

        await Assert.ThrowsAsync<RunOwnershipLostException>(() => Store.SaveCheckpointAsync(lease, CheckpointAt(1), keep: 3, Ct));
        await Assert.ThrowsAsync<RunOwnershipLostException>(() => Store.TransitionAsync(lease, Failure(), Ct));
        await Assert.ThrowsAsync<RunOwnershipLostException>(() => Store.CompleteRunAsync(lease, Result, "done", [], Ct));
        Assert.Null(await Store.GetRunAsync(lease.RunId, Ct));
    }
}
