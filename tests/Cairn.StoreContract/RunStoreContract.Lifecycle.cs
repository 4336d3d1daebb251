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
    // ---- Transitions

    [Fact]
    public async Task TransitionAsync_ToWaitingForRetry_SchedulesRetryAndReleasesLease()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        Time.Advance(TimeSpan.FromSeconds(7));

        await Store.TransitionAsync(claimed.Lease, Retry(TimeSpan.FromMinutes(5)) with { LastError = "timeout calling ERP" }, Ct);

        var now = Time.GetUtcNow();
        var updated = await Store.GetRunAsync(run.Id, Ct);
        Assert.NotNull(updated);
        Assert.Equal(RunStatus.WaitingForRetry, updated.Status);
        Assert.Equal(now + TimeSpan.FromMinutes(5), updated.DueAt);
        Assert.Equal("timeout calling ERP", updated.LastError);
        Assert.Equal(1, updated.RetriesUsed);
        Assert.Null(updated.LeaseExpiresAt);
        Assert.Null(updated.FinishedAt);
        Assert.Equal(now, updated.UpdatedAt);
        Assert.Equal(1, updated.Attempt);
        Assert.Equal(new RunEvent(now, RunEventKind.RetryScheduled, 1, "retry 1 in 5 minutes"), (await Store.GetEventsAsync(run.Id, Ct))[^1]);
    }

    [Fact]
    public async Task TransitionAsync_NotCountedAsRetry_KeepsRetriesUsed()
    {
        var run = await CreateAsync();
        var first = Assert.Single(await ClaimAsync(NodeA));
        await Store.TransitionAsync(first.Lease, Retry(TimeSpan.FromMinutes(1)), Ct);
        Time.Advance(TimeSpan.FromMinutes(1));
        var second = Assert.Single(await ClaimAsync(NodeA));

        await Store.TransitionAsync(second.Lease, Retry(TimeSpan.FromMinutes(1)) with { CountsAsRetry = false }, Ct);

        Assert.Equal(1, (await Store.GetRunAsync(run.Id, Ct))?.RetriesUsed);
    }

    [Fact]
    public async Task TransitionAsync_ToFailed_SetsFinishedAtAndLastError()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        Time.Advance(TimeSpan.FromSeconds(7));

        await Store.TransitionAsync(claimed.Lease, Failure(), Ct);

        var now = Time.GetUtcNow();
        var updated = await Store.GetRunAsync(run.Id, Ct);
        Assert.NotNull(updated);
        Assert.Equal(RunStatus.Failed, updated.Status);
        Assert.Equal(now, updated.FinishedAt);
        Assert.Null(updated.DueAt);
        Assert.Null(updated.LeaseExpiresAt);
        Assert.Equal("InvalidOperationException: boom", updated.LastError);
        Assert.Equal(0, updated.RetriesUsed);
        Assert.Equal(new RunEvent(now, RunEventKind.Failed, 1, "failed: boom"), (await Store.GetEventsAsync(run.Id, Ct))[^1]);
        Assert.Empty(await ClaimAsync(NodeA));
    }

    [Fact]
    public async Task TransitionAsync_WithoutLastError_KeepsPreviousError()
    {
        var run = await CreateAsync();
        var first = Assert.Single(await ClaimAsync(NodeA));
        await Store.TransitionAsync(first.Lease, Retry(TimeSpan.FromMinutes(1)) with { LastError = "first error" }, Ct);
        Time.Advance(TimeSpan.FromMinutes(1));
        var second = Assert.Single(await ClaimAsync(NodeA));

        await Store.TransitionAsync(second.Lease, new RunTransition(RunStatus.Interrupted, RunEventKind.Interrupted, "engine stopping"), Ct);

        var updated = await Store.GetRunAsync(run.Id, Ct);
        Assert.Equal(RunStatus.Interrupted, updated?.Status);
        Assert.Equal("first error", updated?.LastError);
        Assert.Null(updated?.DueAt);
        Assert.Null(updated?.FinishedAt);
    }

    // ---- Completion

    [Fact]
    public async Task CompleteRunAsync_ValidLease_StoresResultAndDeletesRecoveryData()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(1), keep: 3, Ct);
        Time.Advance(TimeSpan.FromSeconds(9));

        await Store.CompleteRunAsync(claimed.Lease, Result, "completed in 9 s", [], Ct);

        var now = Time.GetUtcNow();
        Assert.Equal(Result, (await Store.GetResultAsync(run.Id, Ct))?.ToArray());
        var data = await Store.GetRecoveryDataAsync(run.Id, Ct);
        Assert.Null(data.Input);
        Assert.Null(data.Checkpoint);
        if (await CountCheckpointsAsync(run.Id) is { } count)
        {
            Assert.Equal(0, count);
        }

        var completed = await Store.GetRunAsync(run.Id, Ct);
        Assert.NotNull(completed);
        Assert.Equal(RunStatus.Completed, completed.Status);
        Assert.Equal(now, completed.FinishedAt);
        Assert.Equal(now, completed.UpdatedAt);
        Assert.Null(completed.LeaseExpiresAt);
        Assert.Equal("point-1", completed.LastRecoveryPoint);
        Assert.Equal(completed, await Store.FindRunAsync(Flow, run.RecoveryId, Ct));
        var events = await Store.GetEventsAsync(run.Id, Ct);
        Assert.Equal([RunEventKind.Created, RunEventKind.Started, RunEventKind.RecoveryPointPassed, RunEventKind.Completed], events.Select(e => e.Kind));
        Assert.Equal(new RunEvent(now, RunEventKind.Completed, 1, "completed in 9 s"), events[^1]);
    }

    [Fact]
    public async Task CompleteRunAsync_LargeResult_RoundTrips()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        var result = RandomBytes(5 * 1024 * 1024, seed: 3);

        await Store.CompleteRunAsync(claimed.Lease, result, "done", [], Ct);

        Assert.True((await Store.GetResultAsync(run.Id, Ct))?.Span.SequenceEqual(result), "the 5 MB result did not round-trip");
    }

    [Fact]
    public async Task CompleteRunAsync_EmptyResult_ReturnsEmptyResult()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));

        await Store.CompleteRunAsync(claimed.Lease, ReadOnlyMemory<byte>.Empty, "done", [], Ct);

        var result = await Store.GetResultAsync(run.Id, Ct);
        Assert.NotNull(result);
        Assert.Equal(0, result.Value.Length);
    }

    [Fact]
    public async Task CreateRunAsync_RecoveryIdOfCompletedRun_ReturnsCompletedRun()
    {
        var completed = await CreateInStatusAsync(RunStatus.Completed, Flow, "order-42");

        var result = await Store.CreateRunAsync(NewRun(recoveryId: "order-42"), Ct);

        Assert.False(result.Created);
        Assert.Equal(completed, result.Run);
        Assert.Equal(Result, (await Store.GetResultAsync(result.Run.Id, Ct))?.ToArray());
    }

    // ---- Leases

    [Fact]
    public async Task RenewLeasesAsync_Owner_ExtendsOnlyItsRunningRuns()
    {
        var mine1 = await CreateAsync(Flow, "1");
        var mine2 = await CreateAsync(Flow, "2");
        Assert.Equal(2, (await ClaimAsync(NodeA)).Count);
        var finished = await CreateInStatusAsync(RunStatus.Failed, "failed-flow", "3", owner: NodeA);
        var theirs = await CreateInStatusAsync(RunStatus.Running, "other-flow", "4", owner: NodeB);
        var pending = await CreateAsync(Flow, "5");
        Time.Advance(TimeSpan.FromSeconds(20));

        var renewed = await Store.RenewLeasesAsync(NodeA, TimeSpan.FromMinutes(1), Ct);

        var expected = Time.GetUtcNow() + TimeSpan.FromMinutes(1);
        Assert.Equal(2, renewed);
        Assert.Equal(expected, (await Store.GetRunAsync(mine1.Id, Ct))?.LeaseExpiresAt);
        Assert.Equal(expected, (await Store.GetRunAsync(mine2.Id, Ct))?.LeaseExpiresAt);
        Assert.Equal(theirs, await Store.GetRunAsync(theirs.Id, Ct));
        Assert.Equal(finished, await Store.GetRunAsync(finished.Id, Ct));
        Assert.Equal(pending, await Store.GetRunAsync(pending.Id, Ct));
    }

    [Fact]
    public async Task RenewLeasesAsync_RenewedLease_KeepsRunFromBeingInterrupted()
    {
        var run = await CreateAsync();
        Assert.Single(await ClaimAsync(NodeA, lease: Lease));
        Time.Advance(Lease - TimeSpan.FromSeconds(1));
        await Store.RenewLeasesAsync(NodeA, Lease, Ct);
        Time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(0, await Store.InterruptAbandonedRunsAsync(NodeB, exclusive: false, resumeAfter: TimeSpan.Zero, Ct));
        Assert.Equal(RunStatus.Running, (await Store.GetRunAsync(run.Id, Ct))?.Status);
    }

    [Fact]
    public async Task InterruptAbandonedRunsAsync_AfterARecoveryPoint_RecordsThePointInTheEvent()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA, lease: TimeSpan.FromSeconds(30)));
        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(1), keep: 3, Ct);
        Time.Advance(TimeSpan.FromSeconds(30));

        Assert.Equal(1, await Store.InterruptAbandonedRunsAsync(NodeB, exclusive: false, resumeAfter: TimeSpan.Zero, Ct));

        var interrupted = (await Store.GetEventsAsync(run.Id, Ct))[^1];
        Assert.Equal(RunEventKind.Interrupted, interrupted.Kind);
        Assert.Equal("point-1", interrupted.RecoveryPoint);
        Assert.Null((await Store.GetEventsAsync(run.Id, Ct))[0].RecoveryPoint);
    }

    [Fact]
    public async Task InterruptAbandonedRunsAsync_NotExclusive_InterruptsOnlyExpiredLeases()
    {
        var expired = await CreateAsync(Flow, "1");
        Assert.Single(await ClaimAsync(NodeA, lease: TimeSpan.FromSeconds(30)));
        var live = await CreateInStatusAsync(RunStatus.Running, "other-flow", "2", owner: NodeB, lease: TimeSpan.FromMinutes(2));
        var pending = await CreateAsync(Flow, "3");
        Time.Advance(TimeSpan.FromSeconds(30));

        var interrupted = await Store.InterruptAbandonedRunsAsync(NodeB, exclusive: false, resumeAfter: TimeSpan.Zero, Ct);

        var now = Time.GetUtcNow();
        Assert.Equal(1, interrupted);
        var run = await Store.GetRunAsync(expired.Id, Ct);
        Assert.NotNull(run);
        Assert.Equal(RunStatus.Interrupted, run.Status);
        Assert.Null(run.LeaseExpiresAt);
        Assert.Null(run.FinishedAt);
        Assert.Equal(now, run.DueAt);
        Assert.Equal(now, run.UpdatedAt);
        Assert.Equal(new RunEvent(now, RunEventKind.Interrupted, 1, "owner node-a is gone; the run will resume from its last recovery point"), (await Store.GetEventsAsync(expired.Id, Ct))[^1]);
        Assert.Equal(live, await Store.GetRunAsync(live.Id, Ct));
        Assert.Equal(pending, await Store.GetRunAsync(pending.Id, Ct));
    }

    [Fact]
    public async Task InterruptAbandonedRunsAsync_Exclusive_InterruptsTheRunsTheWorkerLockCovers()
    {
        var mine = await CreateInStatusAsync(RunStatus.Running, "flow-a", "1", owner: NodeA, lease: TimeSpan.FromMinutes(5));
        var theirs = await CreateInStatusAsync(RunStatus.Running, "flow-b", "2", owner: NodeB, lease: TimeSpan.FromMinutes(5));
        var waiting = await CreateInStatusAsync(RunStatus.WaitingForRetry, "flow-c", "3", owner: NodeB);

        var interrupted = await Store.InterruptAbandonedRunsAsync(NodeA, exclusive: true, resumeAfter: TimeSpan.Zero, Ct);

        // Runs still owned by the caller's name belong to an earlier process of that name: the caller has claimed nothing yet.
        Assert.Equal(RunStatus.Interrupted, (await Store.GetRunAsync(mine.Id, Ct))?.Status);
        Assert.Equal("owner node-a is gone; the run will resume from its last recovery point", (await Store.GetEventsAsync(mine.Id, Ct))[^1].Message);
        if (WorkerLockCoversWholeStore)
        {
            Assert.Equal(2, interrupted);
            Assert.Equal(RunStatus.Interrupted, (await Store.GetRunAsync(theirs.Id, Ct))?.Status);
            Assert.Equal("owner node-b is gone; the run will resume from its last recovery point", (await Store.GetEventsAsync(theirs.Id, Ct))[^1].Message);
        }
        else
        {
            Assert.Equal(1, interrupted);
            Assert.Equal(theirs, await Store.GetRunAsync(theirs.Id, Ct));
        }

        Assert.Equal(waiting, await Store.GetRunAsync(waiting.Id, Ct));
    }

    [Fact]
    public async Task InterruptAbandonedRunsAsync_ResumeAfter_MakesRunDueOnlyThen()
    {
        var run = await CreateAsync();
        Assert.Single(await ClaimAsync(NodeA, lease: Lease));
        Time.Advance(Lease);

        Assert.Equal(1, await Store.InterruptAbandonedRunsAsync(NodeB, exclusive: false, resumeAfter: TimeSpan.FromMinutes(1), Ct));

        Assert.Equal(Time.GetUtcNow() + TimeSpan.FromMinutes(1), (await Store.GetRunAsync(run.Id, Ct))?.DueAt);
        Assert.Empty(await ClaimAsync(NodeB));
        Time.Advance(TimeSpan.FromMinutes(1) - TimeSpan.FromTicks(1));
        Assert.Empty(await ClaimAsync(NodeB));
        Time.Advance(TimeSpan.FromTicks(1));
        var resumed = Assert.Single(await ClaimAsync(NodeB));
        Assert.Equal(run.Id, resumed.Run.Id);
        Assert.Equal(2, resumed.Run.Attempt);
    }

    [Fact]
    public async Task InterruptAbandonedRunsAsync_NothingAbandoned_ReturnsZero()
    {
        var run = await CreateInStatusAsync(RunStatus.Running, Flow, "1", owner: NodeA);
        var waiting = await CreateInStatusAsync(RunStatus.WaitingForRetry, Flow, "2", owner: NodeA);

        Assert.Equal(0, await Store.InterruptAbandonedRunsAsync(NodeB, exclusive: false, resumeAfter: TimeSpan.Zero, Ct));
        Assert.Equal(run, await Store.GetRunAsync(run.Id, Ct));
        await Store.CancelRunAsync(run.Id, "cancelled", Ct);
        Assert.Equal(0, await Store.InterruptAbandonedRunsAsync(NodeA, exclusive: true, resumeAfter: TimeSpan.Zero, Ct));
        Assert.Equal(waiting, await Store.GetRunAsync(waiting.Id, Ct));
    }
}
