using System.Text;
using Cairn.Runs;
using Cairn.Storage;

namespace Cairn.StoreContract;

public abstract partial class RunStoreContract
{
    private static RunSignal Signal(string id, string name = "approval", string payload = "{\"amount\":250}") =>
        new(id, name, Encoding.UTF8.GetBytes(payload));

    [Fact]
    public async Task TransitionAsync_ToWaiting_ReleasesTheRunUntilItIsDue_ThenItIsClaimedAndResumes()
    {
        var run = await CreateInStatusAsync(RunStatus.Waiting, "waits");
        Assert.Equal(Time.GetUtcNow() + TimeSpan.FromHours(1), run.DueAt);
        Assert.Null(run.LeaseExpiresAt);
        Assert.Contains(await Store.GetEventsAsync(run.Id, Ct), e => e.Kind == RunEventKind.Waiting);

        Time.Advance(TimeSpan.FromMinutes(59));
        Assert.Empty(await ClaimAsync(NodeB, flows: ["waits"]));
        Time.Advance(TimeSpan.FromMinutes(1));
        var claimed = Assert.Single(await ClaimAsync(NodeB, flows: ["waits"]));

        Assert.Equal((run.Id, RunStatus.Running, 2, NodeB), (claimed.Run.Id, claimed.Run.Status, claimed.Run.Attempt, claimed.Run.Owner));
        Assert.Equal("point-1", (await Store.GetRecoveryDataAsync(run.Id, Ct)).Checkpoint!.RecoveryPoint);
    }

    [Fact]
    public async Task SendSignalAsync_KeepsSignalsInOrder_IgnoresASecondWithTheSameId_RecordsAnEvent()
    {
        var run = await CreateAsync();

        Assert.True(await Store.Signals().SendSignalAsync(run.Id, Signal("s-1"), Ct));
        Time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await Store.Signals().SendSignalAsync(run.Id, Signal("s-2", payload: "{\"amount\":7}"), Ct));
        Assert.False(await Store.Signals().SendSignalAsync(run.Id, Signal("s-1", payload: "{\"amount\":999}"), Ct));

        var kept = await Store.Signals().ListSignalsAsync(run.Id, Ct);
        Assert.Equal(["s-1", "s-2"], kept.Select(s => s.Id));
        Assert.Equal("{\"amount\":250}", Encoding.UTF8.GetString(kept[0].Payload.Span));
        Assert.Equal(("approval", Time.GetUtcNow() - TimeSpan.FromSeconds(1), (long?)null), (kept[0].Name, kept[0].SentAt, kept[0].TakenBy));
        var signalled = (await Store.GetEventsAsync(run.Id, Ct)).Where(e => e.Kind == RunEventKind.Signalled).ToList();
        Assert.Equal(2, signalled.Count);
        Assert.Equal("signal 'approval' received (ID s-1, 14 bytes of payload)", signalled[0].Message);
        Assert.Equal(RunStatus.Pending, (await Store.GetRunAsync(run.Id, Ct))!.Status);
    }

    [Fact]
    public async Task SendSignalAsync_ToAWaitingRun_MakesItDueAtOnce()
    {
        var run = await CreateInStatusAsync(RunStatus.Waiting, "waits");

        Assert.True(await Store.Signals().SendSignalAsync(run.Id, Signal("s-1"), Ct));

        Assert.Equal(Time.GetUtcNow(), (await Store.GetRunAsync(run.Id, Ct))!.DueAt);
        Assert.Equal(run.Id, Assert.Single(await ClaimAsync(NodeB, flows: ["waits"])).Run.Id);
    }

    [Fact]
    public async Task SendSignalAsync_ToAFinishedOrUnknownRun_IsRefused_NothingIsKept()
    {
        var completed = await CreateInStatusAsync(RunStatus.Completed, "done");

        var finished = await Assert.ThrowsAsync<InvalidRunStateException>(() => Store.Signals().SendSignalAsync(completed.Id, Signal("s-1"), Ct));
        Assert.Equal(RunStatus.Completed, finished.Status);
        await Assert.ThrowsAsync<RunNotFoundException>(() => Store.Signals().SendSignalAsync(RunId.New(), Signal("s-1"), Ct));

        Assert.Empty(await Store.Signals().ListSignalsAsync(completed.Id, Ct));
        Assert.DoesNotContain(await Store.GetEventsAsync(completed.Id, Ct), e => e.Kind == RunEventKind.Signalled);
    }

    [Fact]
    public async Task SaveCheckpointAsync_TakingASignal_MarksItTakenByThatCheckpoint_AFencedOneDoesNot()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        await Store.Signals().SendSignalAsync(run.Id, Signal("s-1"), Ct);
        await Store.Signals().SendSignalAsync(run.Id, Signal("s-2"), Ct);

        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(1) with { TakesSignal = "s-2" }, keep: 3, Ct);
        await Store.CancelRunAsync(run.Id, "cancelled by operator", Ct);
        await Assert.ThrowsAsync<RunOwnershipLostException>(() =>
            Store.SaveCheckpointAsync(claimed.Lease, WithMessages(CheckpointAt(2), run.Id, 1) with { TakesSignal = "s-1" }, keep: 3, Ct));

        var kept = await Store.Signals().ListSignalsAsync(run.Id, Ct);
        Assert.Equal([("s-1", (long?)null), ("s-2", 1L)], kept.Select(s => (s.Id, s.TakenBy)));
        Assert.Null((await Store.GetRecoveryDataAsync(run.Id, Ct)).Checkpoint!.TakesSignal);
    }

    [Fact]
    public async Task SaveCheckpointAsync_TakingASignal_WithOutboxMessages_AddsThemToo()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        await Store.Signals().SendSignalAsync(run.Id, Signal("s-1"), Ct);

        await Store.SaveCheckpointAsync(claimed.Lease, WithMessages(CheckpointAt(1), run.Id, 2) with { TakesSignal = "s-1" }, keep: 3, Ct);

        Assert.Equal(1L, Assert.Single(await Store.Signals().ListSignalsAsync(run.Id, Ct)).TakenBy);
        Assert.Equal(2, (await Store.Outbox().ListOutboxAsync(new OutboxQuery { RunId = run.Id }, Ct)).Count);
    }

    [Fact]
    public async Task ClaimDueRunsAsync_WithRecoveryOff_LeavesInterruptedRuns_AndClaimsTheRest()
    {
        string[] flows = ["switch-1", "switch-2", "switch-3"];
        var interrupted = await CreateInStatusAsync(RunStatus.Interrupted, flows[0]);
        var retrying = await CreateInStatusAsync(RunStatus.WaitingForRetry, flows[1]);
        var pending = await CreateAsync(flows[2]);
        Time.Advance(TimeSpan.FromMinutes(10));

        var claimed = await Store.ClaimDueRunsAsync(new ClaimRequest(NodeB, flows, 10, Lease) { ResumeInterrupted = false }, Ct);

        Assert.Equal(new[] { retrying.Id, pending.Id }.Select(id => id.ToString()).Order(), claimed.Select(c => c.Run.Id.ToString()).Order());
        Assert.Equal(RunStatus.Interrupted, (await Store.GetRunAsync(interrupted.Id, Ct))!.Status);
        Assert.Equal(interrupted.Id, Assert.Single(await ClaimAsync(NodeB, flows: flows)).Run.Id);
    }

    [Fact]
    public async Task PurgeAsync_DeletesARunsSignalsWithIt()
    {
        var run = await CreateAsync("signalled");
        await Store.Signals().SendSignalAsync(run.Id, Signal("s-1"), Ct);
        var claimed = Assert.Single(await ClaimAsync(NodeA, flows: ["signalled"]));
        await Store.CompleteRunAsync(claimed.Lease, Result, "done", [], Ct);
        Time.Advance(TimeSpan.FromHours(1));

        Assert.Equal(1, await Store.PurgeAsync(Time.GetUtcNow(), Ct));

        Assert.Empty(await Store.Signals().ListSignalsAsync(run.Id, Ct));
    }
}
