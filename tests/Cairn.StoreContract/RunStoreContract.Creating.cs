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
    // ---- Creating runs

    [Fact]
    public async Task CreateRunAsync_NewRecoveryId_CreatesPendingRunDueNow()
    {
        var newRun = NewRun(recoveryId: "order-42");

        var result = await Store.CreateRunAsync(newRun, Ct);

        Assert.True(result.Created);
        var run = result.Run;
        Assert.Equal(newRun.Id, run.Id);
        Assert.Equal(Flow, run.FlowName);
        Assert.Equal(newRun.FlowVersion, run.FlowVersion);
        Assert.Equal("order-42", run.RecoveryId);
        Assert.Equal(RunStatus.Pending, run.Status);
        Assert.Equal(Time.GetUtcNow(), run.CreatedAt);
        Assert.Equal(Time.GetUtcNow(), run.UpdatedAt);
        Assert.Equal(Time.GetUtcNow(), run.DueAt);
        Assert.Null(run.FinishedAt);
        Assert.Equal(0, run.Attempt);
        Assert.Equal(0, run.RetriesUsed);
        Assert.Null(run.Owner);
        Assert.Equal(0, run.LeaseEpoch);
        Assert.Null(run.LeaseExpiresAt);
        Assert.Equal("", run.Position);
        Assert.Null(run.LastRecoveryPoint);
        Assert.Null(run.StatusMessage);
        Assert.Null(run.LastError);
        Assert.Equal(0, run.CheckpointSequence);
        Assert.Equal(newRun.InputChecksum, run.InputChecksum);
        Assert.Equal(newRun.Settings, run.Settings);
        Assert.Equal(run, await Store.GetRunAsync(run.Id, Ct));
    }

    [Fact]
    public async Task CreateRunAsync_NewRun_RecordsCreatedEvent()
    {
        var run = await CreateAsync(recoveryId: "order-42");

        var events = await Store.GetEventsAsync(run.Id, Ct);

        Assert.Equal([new RunEvent(Time.GetUtcNow(), RunEventKind.Created, 0, "run created for recovery ID 'order-42'")], events);
    }

    [Fact]
    public async Task CreateRunAsync_SameFlowAndRecoveryId_ReturnsExistingRunUnchanged()
    {
        var first = await CreateAsync(recoveryId: "order-42");
        Time.Advance(TimeSpan.FromMinutes(1));
        var second = NewRun(recoveryId: "order-42", input: "other input"u8.ToArray());

        var result = await Store.CreateRunAsync(second, Ct);

        Assert.False(result.Created);
        Assert.Equal(first, result.Run);
        Assert.Null(await Store.GetRunAsync(second.Id, Ct));
        Assert.Single(await Store.GetEventsAsync(first.Id, Ct));
        Assert.Equal(Input, (await Store.GetRecoveryDataAsync(first.Id, Ct)).Input?.ToArray());
    }

    [Fact]
    public async Task CreateRunAsync_ClaimFor_CreatesTheRunClaimedAsAClaimWould()
    {
        var newRun = NewRun(recoveryId: "order-42") with { ClaimFor = new NewRunClaim(NodeA, Lease) };

        var result = await Store.CreateRunAsync(newRun, Ct);

        Assert.True(result.Created);
        Assert.Equal(new RunLease(newRun.Id, NodeA, 1), result.Lease);
        var run = await Store.GetRunAsync(newRun.Id, Ct);
        Assert.Equal(result.Run, run);
        Assert.Equal(RunStatus.Running, run!.Status);
        Assert.Equal(1, run.Attempt);
        Assert.Equal(NodeA, run.Owner);
        Assert.Equal(1, run.LeaseEpoch);
        Assert.Equal(Time.GetUtcNow() + Lease, run.LeaseExpiresAt);
        Assert.Null(run.DueAt);
        Assert.Equal(
            [
                new RunEvent(Time.GetUtcNow(), RunEventKind.Created, 0, "run created for recovery ID 'order-42'"),
                new RunEvent(Time.GetUtcNow(), RunEventKind.Started, 1, "attempt 1 started on node-a"),
            ],
            await Store.GetEventsAsync(run.Id, Ct));
        Assert.Equal(Input, (await Store.GetRecoveryDataAsync(run.Id, Ct)).Input?.ToArray());
        Assert.Empty(await ClaimAsync(NodeB));

        // The lease is a lease like any other: it fences the owner's writes, and it expires.
        await Store.SaveCheckpointAsync(result.Lease!, CheckpointAt(1), keep: 1, Ct);
        Time.Advance(Lease);
        Assert.Equal(1, await Store.InterruptAbandonedRunsAsync(NodeB, exclusive: false, TimeSpan.Zero, Ct));
        var resumed = Assert.Single(await ClaimAsync(NodeB));
        Assert.Equal(2, resumed.Lease.Epoch);
        await Assert.ThrowsAsync<RunOwnershipLostException>(() => Store.SaveCheckpointAsync(result.Lease!, CheckpointAt(2), keep: 1, Ct));
    }

    [Fact]
    public async Task CreateRunAsync_ClaimForAnExistingRecoveryId_ReturnsTheRunUnclaimed()
    {
        var first = await CreateAsync(recoveryId: "order-42");

        var result = await Store.CreateRunAsync(NewRun(recoveryId: "order-42") with { ClaimFor = new NewRunClaim(NodeA, Lease) }, Ct);

        Assert.False(result.Created);
        Assert.Null(result.Lease);
        Assert.Equal(first, result.Run);
        Assert.Equal(first, await Store.GetRunAsync(first.Id, Ct));
        Assert.Single(await Store.GetEventsAsync(first.Id, Ct));
    }

    [Fact]
    public async Task CreateRunAsync_SameRecoveryIdInAnotherFlow_CreatesSeparateRun()
    {
        var orders = await CreateAsync(Flow, "shared-id");

        var result = await Store.CreateRunAsync(NewRun("invoices", "shared-id"), Ct);

        Assert.True(result.Created);
        Assert.NotEqual(orders.Id, result.Run.Id);
        Assert.Equal("invoices", result.Run.FlowName);
        Assert.Equal(orders.Id, (await Store.FindRunAsync(Flow, "shared-id", Ct))?.Id);
        Assert.Equal(result.Run.Id, (await Store.FindRunAsync("invoices", "shared-id", Ct))?.Id);
    }

    // ---- Reading runs

    [Fact]
    public async Task GetRunAsync_UnknownRun_ReturnsNull()
    {
        await CreateAsync();

        Assert.Null(await Store.GetRunAsync(RunId.New(), Ct));
    }

    [Fact]
    public async Task FindRunAsync_KnownFlowAndRecoveryId_ReturnsRun()
    {
        var run = await CreateAsync(recoveryId: "order-42");

        Assert.Equal(run, await Store.FindRunAsync(Flow, "order-42", Ct));
    }

    [Fact]
    public async Task FindRunAsync_UnknownRecoveryIdOrFlow_ReturnsNull()
    {
        await CreateAsync(recoveryId: "order-42");

        Assert.Null(await Store.FindRunAsync(Flow, "order-43", Ct));
        Assert.Null(await Store.FindRunAsync("invoices", "order-42", Ct));
        Assert.Null(await Store.FindRunAsync(Flow, "ORDER-42", Ct));
    }

    [Fact]
    public async Task GetEventsAsync_UnknownRun_ReturnsEmpty()
    {
        await CreateAsync();

        Assert.Empty(await Store.GetEventsAsync(RunId.New(), Ct));
    }

    [Fact]
    public async Task GetRecoveryDataAsync_NewRun_ReturnsInputAndNoCheckpoint()
    {
        var run = await CreateAsync();

        var data = await Store.GetRecoveryDataAsync(run.Id, Ct);

        Assert.Equal(Input, data.Input?.ToArray());
        Assert.Null(data.Checkpoint);
    }

    [Fact]
    public async Task GetRecoveryDataAsync_UnknownRun_ThrowsRunNotFound()
    {
        var id = RunId.New();

        var error = await Assert.ThrowsAsync<RunNotFoundException>(() => Store.GetRecoveryDataAsync(id, Ct));

        Assert.Equal(id, error.RunId);
    }

    [Fact]
    public async Task GetResultAsync_UnknownRun_ReturnsNull()
    {
        Assert.Null(await Store.GetResultAsync(RunId.New(), Ct));
    }

    [Fact]
    public async Task GetResultAsync_UnfinishedRun_ReturnsNull()
    {
        var pending = await CreateAsync(recoveryId: "pending");
        var running = await CreateInStatusAsync(RunStatus.Running, "running-flow");

        Assert.Null(await Store.GetResultAsync(pending.Id, Ct));
        Assert.Null(await Store.GetResultAsync(running.Id, Ct));
    }
}
