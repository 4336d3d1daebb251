using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Serialization;
using Cairn.Storage;

namespace Cairn.StoreContract;

/// <summary>
/// Every behaviour a <see cref="RunStore"/> promises, described once. A store's test project subclasses this class and
/// supplies a fresh store; xUnit creates one instance, so one store and one clock, per test.
/// </summary>
public abstract class RunStoreContract : IAsyncLifetime
{
    private const string Flow = "orders";
    private const string NodeA = "node-a";
    private const string NodeB = "node-b";
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    private RunStore? _store;

    /// <summary>The store's clock; advance it instead of waiting.</summary>
    protected FakeTimeProvider Time { get; } = new();

    /// <summary>The store under test, created for this test.</summary>
    protected RunStore Store => _store ?? throw new InvalidOperationException("The store is created in InitializeAsync.");

    private static CancellationToken Ct => CancellationToken.None;

    /// <summary>Creates a fresh, empty, initialized store on <paramref name="time"/>.</summary>
    protected abstract Task<RunStore> CreateStoreAsync(FakeTimeProvider time);

    /// <summary>How many checkpoints the store holds for a run, or null when the store cannot tell from outside.</summary>
    protected virtual Task<int?> CountCheckpointsAsync(RunId runId) => Task.FromResult<int?>(null);

    /// <summary>
    /// Whether the store's worker lock covers the whole store (one engine per store, as the embedded SQLite file) rather
    /// than one node name (PostgreSQL). Decides which running runs an exclusive interruption finds abandoned.
    /// </summary>
    protected virtual bool WorkerLockCoversWholeStore => true;

    public virtual async Task InitializeAsync() => _store = await CreateStoreAsync(Time);

    public virtual async Task DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }
    }

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

    // ---- Listing runs

    [Fact]
    public async Task ListRunsAsync_NoFilter_ReturnsAllRunsNewestFirst()
    {
        var first = await CreateAsync(recoveryId: "1");
        Time.Advance(TimeSpan.FromSeconds(1));
        var second = await CreateAsync("invoices", "2");
        Time.Advance(TimeSpan.FromSeconds(1));
        var third = await CreateAsync(recoveryId: "3");

        var runs = await Store.ListRunsAsync(new RunQuery(), Ct);

        Assert.Equal([third.Id, second.Id, first.Id], runs.Select(r => r.Id));
        Assert.Equal(third, runs[0]);
    }

    [Fact]
    public async Task ListRunsAsync_SameCreationTime_OrdersByRunIdDescending()
    {
        Guid[] ids =
        [
            Guid.Parse("0f000000-0000-0000-0000-000000000000"),
            Guid.Parse("f0000000-0000-0000-0000-000000000000"),
            Guid.Parse("0f000000-0000-0000-0000-0000000000ff"),
            Guid.Parse("0f000000-ffff-0000-0000-000000000000"),
        ];
        foreach (var id in ids)
        {
            await Store.CreateRunAsync(NewRun(recoveryId: id.ToString()) with { Id = new RunId(id) }, Ct);
        }

        var runs = await Store.ListRunsAsync(new RunQuery(), Ct);

        Assert.Equal(ids.OrderByDescending(id => id), runs.Select(r => r.Id.Value));
    }

    [Fact]
    public async Task ListRunsAsync_StatusFilter_ReturnsOnlyRunsInThoseStatuses()
    {
        var failed = await CreateInStatusAsync(RunStatus.Failed, "flow-failed");
        Time.Advance(TimeSpan.FromSeconds(1));
        await CreateInStatusAsync(RunStatus.Running, "flow-running");
        Time.Advance(TimeSpan.FromSeconds(1));
        var pending = await CreateAsync();

        var runs = await Store.ListRunsAsync(new RunQuery { Statuses = [RunStatus.Pending, RunStatus.Failed] }, Ct);

        Assert.Equal([pending.Id, failed.Id], runs.Select(r => r.Id));
        Assert.Empty(await Store.ListRunsAsync(new RunQuery { Statuses = [RunStatus.Completed] }, Ct));
    }

    [Fact]
    public async Task ListRunsAsync_FlowFilter_ReturnsOnlyThatFlow()
    {
        var order1 = await CreateAsync(recoveryId: "1");
        Time.Advance(TimeSpan.FromSeconds(1));
        await CreateAsync("invoices", "2");
        Time.Advance(TimeSpan.FromSeconds(1));
        var order3 = await CreateAsync(recoveryId: "3");

        var runs = await Store.ListRunsAsync(new RunQuery { FlowName = Flow }, Ct);

        Assert.Equal([order3.Id, order1.Id], runs.Select(r => r.Id));
    }

    [Fact]
    public async Task ListRunsAsync_StatusAndFlowFilters_ApplyTogether()
    {
        await CreateInStatusAsync(RunStatus.Failed, "invoices");
        var orderFailed = await CreateInStatusAsync(RunStatus.Failed, Flow, "failed");
        await CreateAsync(recoveryId: "pending");

        var runs = await Store.ListRunsAsync(new RunQuery { FlowName = Flow, Statuses = [RunStatus.Failed] }, Ct);

        Assert.Equal([orderFailed.Id], runs.Select(r => r.Id));
    }

    [Fact]
    public async Task ListRunsAsync_Limit_ReturnsOnlyTheNewest()
    {
        var created = new List<RunId>();
        for (var i = 0; i < 5; i++)
        {
            created.Add((await CreateAsync(recoveryId: $"r{i}")).Id);
            Time.Advance(TimeSpan.FromSeconds(1));
        }

        var runs = await Store.ListRunsAsync(new RunQuery { Limit = 2 }, Ct);

        Assert.Equal([created[4], created[3]], runs.Select(r => r.Id));
    }

    // ---- Claiming runs

    [Fact]
    public async Task ClaimDueRunsAsync_DueRun_StartsItUnderOwnerWithNewLease()
    {
        var run = await CreateAsync();
        Time.Advance(TimeSpan.FromSeconds(5));

        var claimed = Assert.Single(await ClaimAsync(NodeA, lease: TimeSpan.FromMinutes(2)));

        var now = Time.GetUtcNow();
        Assert.Equal(run.Id, claimed.Run.Id);
        Assert.Equal(RunStatus.Running, claimed.Run.Status);
        Assert.Equal(NodeA, claimed.Run.Owner);
        Assert.Equal(1, claimed.Run.Attempt);
        Assert.Equal(1, claimed.Run.LeaseEpoch);
        Assert.Equal(now + TimeSpan.FromMinutes(2), claimed.Run.LeaseExpiresAt);
        Assert.Null(claimed.Run.DueAt);
        Assert.Equal(now, claimed.Run.UpdatedAt);
        Assert.Equal(run.CreatedAt, claimed.Run.CreatedAt);
        Assert.Equal(new RunLease(run.Id, NodeA, 1), claimed.Lease);
        Assert.Equal(claimed.Run, await Store.GetRunAsync(run.Id, Ct));
    }

    [Fact]
    public async Task ClaimDueRunsAsync_FirstAttempt_RecordsStartedEvent()
    {
        var run = await CreateAsync();
        Time.Advance(TimeSpan.FromSeconds(5));

        await ClaimAsync(NodeA);

        var events = await Store.GetEventsAsync(run.Id, Ct);
        Assert.Equal([RunEventKind.Created, RunEventKind.Started], events.Select(e => e.Kind));
        Assert.Equal(new RunEvent(Time.GetUtcNow(), RunEventKind.Started, 1, "attempt 1 started on node-a"), events[1]);
    }

    [Fact]
    public async Task ClaimDueRunsAsync_RunsOfOtherFlows_AreNotClaimed()
    {
        var order = await CreateAsync(Flow, "1");
        var invoice = await CreateAsync("invoices", "2");
        await CreateAsync("reports", "3");

        var claimed = await ClaimAsync(NodeA, flows: [Flow, "invoices"]);

        Assert.Equal(new HashSet<RunId> { order.Id, invoice.Id }, claimed.Select(c => c.Run.Id).ToHashSet());
        Assert.Empty(await ClaimAsync(NodeA, flows: ["payments"]));
        Assert.Equal(RunStatus.Pending, (await Store.FindRunAsync("reports", "3", Ct))?.Status);
    }

    [Fact]
    public async Task ClaimDueRunsAsync_MaxRuns_ClaimsOldestDueFirst()
    {
        var first = await CreateAsync(recoveryId: "1");
        Time.Advance(TimeSpan.FromSeconds(1));
        var second = await CreateAsync(recoveryId: "2");
        Time.Advance(TimeSpan.FromSeconds(1));
        var third = await CreateAsync(recoveryId: "3");

        var claimed = await ClaimAsync(NodeA, maxRuns: 2);

        Assert.Equal([first.Id, second.Id], claimed.Select(c => c.Run.Id));
        Assert.Equal(RunStatus.Pending, (await Store.GetRunAsync(third.Id, Ct))?.Status);
        Assert.Equal([third.Id], (await ClaimAsync(NodeA, maxRuns: 2)).Select(c => c.Run.Id));
    }

    [Fact]
    public async Task ClaimDueRunsAsync_ClaimedRun_IsNotClaimedAgain()
    {
        await CreateAsync();
        var first = Assert.Single(await ClaimAsync(NodeA));
        Time.Advance(TimeSpan.FromSeconds(10));

        Assert.Empty(await ClaimAsync(NodeB));
        Assert.Empty(await ClaimAsync(NodeA));
        Assert.Equal(first.Run, await Store.GetRunAsync(first.Run.Id, Ct));
    }

    [Fact]
    public async Task ClaimDueRunsAsync_WaitingForRetry_IsClaimedOnlyWhenDue()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        await Store.TransitionAsync(claimed.Lease, Retry(TimeSpan.FromMinutes(5)), Ct);

        Assert.Empty(await ClaimAsync(NodeA));
        Time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(1));
        Assert.Empty(await ClaimAsync(NodeA));
        Time.Advance(TimeSpan.FromSeconds(1));
        var retried = Assert.Single(await ClaimAsync(NodeB));

        Assert.Equal(run.Id, retried.Run.Id);
        Assert.Equal(2, retried.Run.Attempt);
        Assert.Equal(2, retried.Lease.Epoch);
        Assert.Equal(NodeB, retried.Run.Owner);
    }

    [Fact]
    public async Task ClaimDueRunsAsync_InterruptedRun_IsClaimedAtOnceAndResumesFromRecoveryPoint()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(1), keep: 3, Ct);
        await Store.TransitionAsync(claimed.Lease, new RunTransition(RunStatus.Interrupted, RunEventKind.Interrupted, "engine stopping"), Ct);

        var resumed = Assert.Single(await ClaimAsync(NodeB));

        Assert.Equal(run.Id, resumed.Run.Id);
        Assert.Equal(RunStatus.Running, resumed.Run.Status);
        Assert.Equal(2, resumed.Run.Attempt);
        Assert.Equal(new RunLease(run.Id, NodeB, 2), resumed.Lease);
        Assert.Equal("point-1", resumed.Run.LastRecoveryPoint);
        var started = (await Store.GetEventsAsync(run.Id, Ct))[^1];
        Assert.Equal(new RunEvent(Time.GetUtcNow(), RunEventKind.Started, 2, "attempt 2 resumed on node-b from recovery point 'point-1'"), started);
    }

    [Fact]
    public async Task ClaimDueRunsAsync_FinishedRuns_AreNeverClaimed()
    {
        await CreateInStatusAsync(RunStatus.Completed, Flow, "completed");
        await CreateInStatusAsync(RunStatus.Failed, Flow, "failed");
        await CreateInStatusAsync(RunStatus.Cancelled, Flow, "cancelled");
        Time.Advance(TimeSpan.FromDays(10));

        Assert.Empty(await ClaimAsync(NodeB, maxRuns: 10));
    }

    [Fact]
    public async Task ClaimDueRunsAsync_ParallelClaimers_NeverClaimARunTwice()
    {
        const int RunCount = 200;
        for (var i = 0; i < RunCount; i++)
        {
            await CreateAsync(recoveryId: $"bulk-{i}");
        }

        var claims = new ConcurrentBag<ClaimedRun>();
        var claimers = Enumerable.Range(0, 8).Select(n => Task.Run(async () =>
        {
            while (true)
            {
                var batch = await Store.ClaimDueRunsAsync(new ClaimRequest($"node-{n}", [Flow], 7, Lease), Ct);
                if (batch.Count == 0)
                {
                    return;
                }

                foreach (var claim in batch)
                {
                    claims.Add(claim);
                }
            }
        }));
        await Task.WhenAll(claimers);

        Assert.Equal(RunCount, claims.Count);
        Assert.Equal(RunCount, claims.Select(c => c.Run.Id).Distinct().Count());
        Assert.All(claims, c => Assert.Equal(1, c.Lease.Epoch));
        var running = await Store.ListRunsAsync(new RunQuery { Statuses = [RunStatus.Running], Limit = 1000 }, Ct);
        Assert.Equal(RunCount, running.Count);
        Assert.All(running, r => Assert.Equal(1, r.Attempt));
    }

    // ---- Checkpoints

    [Fact]
    public async Task SaveCheckpointAsync_ValidLease_RoundTripsCheckpoint()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        Time.Advance(TimeSpan.FromSeconds(3));
        var checkpoint = new Checkpoint(1, "2.0.1", "after-select", "SELECT successful", new byte[] { 0, 1, 2, 255, 0 }, "sha256:abc");

        await Store.SaveCheckpointAsync(claimed.Lease, checkpoint, keep: 3, Ct);

        var data = await Store.GetRecoveryDataAsync(run.Id, Ct);
        var saved = Assert.IsType<Checkpoint>(data.Checkpoint);
        Assert.Equal(1, saved.Sequence);
        Assert.Equal("2.0.1", saved.Position);
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
        Assert.Equal(new RunEvent(Time.GetUtcNow(), RunEventKind.RecoveryPointPassed, 1, "recovery point 'point-1' passed: step 1 done"), events[^1]);
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
        await Assert.ThrowsAsync<RunOwnershipLostException>(() => Store.CompleteRunAsync(stale.Lease, Result, "done", Ct));

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

        await Assert.ThrowsAsync<RunOwnershipLostException>(() => Store.CompleteRunAsync(claimed.Lease, Result, "done", Ct));

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
        await Assert.ThrowsAsync<RunOwnershipLostException>(() => Store.CompleteRunAsync(claimed.Lease, Result, "done", Ct));

        await AssertUnchangedAsync(before);
    }

    [Fact]
    public async Task FencedWrites_UnknownRun_ThrowOwnershipLost()
    {
        var lease = new RunLease(RunId.New(), NodeA, 1);

        await Assert.ThrowsAsync<RunOwnershipLostException>(() => Store.SaveCheckpointAsync(lease, CheckpointAt(1), keep: 3, Ct));
        await Assert.ThrowsAsync<RunOwnershipLostException>(() => Store.TransitionAsync(lease, Failure(), Ct));
        await Assert.ThrowsAsync<RunOwnershipLostException>(() => Store.CompleteRunAsync(lease, Result, "done", Ct));
        Assert.Null(await Store.GetRunAsync(lease.RunId, Ct));
    }

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

        await Store.CompleteRunAsync(claimed.Lease, Result, "completed in 9 s", Ct);

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

        await Store.CompleteRunAsync(claimed.Lease, result, "done", Ct);

        Assert.True((await Store.GetResultAsync(run.Id, Ct))?.Span.SequenceEqual(result), "the 5 MB result did not round-trip");
    }

    [Fact]
    public async Task CompleteRunAsync_EmptyResult_ReturnsEmptyResult()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));

        await Store.CompleteRunAsync(claimed.Lease, ReadOnlyMemory<byte>.Empty, "done", Ct);

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
        Assert.Equal(new RunEvent(now, RunEventKind.RerunRequested, before.Attempt, "re-run by operator"), (await Store.GetEventsAsync(before.Id, Ct))[^1]);
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
        Assert.Equal("1", oldest.Position);
        Assert.Equal("point-1", oldest.RecoveryPoint);
        Assert.Equal("step 1 done", oldest.StatusMessage);
        Assert.Equal("sha256:1", oldest.Checksum);
        Assert.Equal(State(1).Length, oldest.StateSize);
        Assert.Equal(run.CreatedAt + TimeSpan.FromSeconds(1), oldest.CreatedAt);
        Assert.Equal(run.CreatedAt + TimeSpan.FromSeconds(3), kept[0].CreatedAt);
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
        Assert.Equal(new CheckpointSummary(4, "1", "point-1", "step 1 done", "sha256:1", now, State(1).Length), kept[0]);
        Assert.Equal(
            new RunEvent(now, RunEventKind.RerunRequested, before.Attempt,
                "re-run by operator: resumes from recovery point 'point-1' (checkpoint 1, copied as checkpoint 4) with its saved state"),
            (await Store.GetEventsAsync(before.Id, Ct))[^1]);

        var resumed = Assert.Single(await ClaimAsync(NodeB, flows: [before.FlowName]));
        Assert.Equal(before.Attempt + 1, resumed.Run.Attempt);
        Assert.Equal(4, resumed.Run.CheckpointSequence);
        Assert.EndsWith("from recovery point 'point-1'", (await Store.GetEventsAsync(before.Id, Ct))[^1].Message, StringComparison.Ordinal);
        var data = await Store.GetRecoveryDataAsync(before.Id, Ct);
        var checkpoint = Assert.IsType<Checkpoint>(data.Checkpoint);
        Assert.Equal((4L, "1", "point-1", "step 1 done", "sha256:1"), (checkpoint.Sequence, checkpoint.Position, checkpoint.RecoveryPoint, checkpoint.StatusMessage, checkpoint.Checksum));
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
        Assert.Equal(("sha256:2", State(2).Length), (original.Checksum, original.StateSize));
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
        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(1) with { Position = "3/-1", RecoveryPoint = "bank-read" }, keep: 3, Ct);
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

    // ---- Helpers

    private static byte[] Input => "{\"order\":42}"u8.ToArray();

    private static byte[] Result => "{\"imported\":17}"u8.ToArray();

    private static NewRun NewRun(string flow = Flow, string? recoveryId = null, byte[]? input = null)
    {
        var bytes = input ?? Input;
        return new NewRun(RunId.New(), flow, 3, recoveryId ?? Guid.NewGuid().ToString("N"), bytes, $"sha256:{bytes.Length}", """{"retries":3}""");
    }

    private async Task<RunRecord> CreateAsync(string flow = Flow, string? recoveryId = null)
    {
        var result = await Store.CreateRunAsync(NewRun(flow, recoveryId), Ct);
        Assert.True(result.Created);
        return result.Run;
    }

    private Task<IReadOnlyList<ClaimedRun>> ClaimAsync(string owner, string[]? flows = null, int maxRuns = 10, TimeSpan? lease = null) =>
        Store.ClaimDueRunsAsync(new ClaimRequest(owner, flows ?? [Flow], maxRuns, lease ?? Lease), Ct);

    private static byte[] State(long sequence) => Encoding.UTF8.GetBytes($"{{\"step\":{sequence}}}");

    private static Checkpoint CheckpointAt(long sequence) =>
        new(sequence, $"{sequence}", $"point-{sequence}", $"step {sequence} done", State(sequence), $"sha256:{sequence}");

    private static RunTransition Retry(TimeSpan after) =>
        new(RunStatus.WaitingForRetry, RunEventKind.RetryScheduled, "retry 1 in 5 minutes") { RetryAfter = after, CountsAsRetry = true };

    private static RunTransition Failure() =>
        new(RunStatus.Failed, RunEventKind.Failed, "failed: boom") { LastError = "InvalidOperationException: boom" };

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
#pragma warning disable CA5394 // Test data, not security.
        new Random(seed).NextBytes(bytes);
#pragma warning restore CA5394
        return bytes;
    }

    /// <summary>
    /// Creates a run in the flow (its own flow by default, so claims touch nothing else) and brings it to
    /// <paramref name="status"/>; every run that was claimed has passed recovery point 1.
    /// </summary>
    private async Task<RunRecord> CreateInStatusAsync(
        RunStatus status, string? flow = null, string? recoveryId = null, string owner = NodeA, TimeSpan? lease = null)
    {
        var run = await CreateAsync(flow ?? $"flow-{status}", recoveryId);
        if (status == RunStatus.Pending)
        {
            return run;
        }

        var claimed = Assert.Single(await ClaimAsync(owner, flows: [run.FlowName], lease: lease));
        Assert.Equal(run.Id, claimed.Run.Id);
        await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(1), keep: 3, Ct);
        return await BringToStatusAsync(claimed, status);
    }

    /// <summary>
    /// Creates a run in its own flow that passes recovery points 1 to <paramref name="count"/> one second apart, keeping
    /// <paramref name="keep"/> checkpoints, and brings it to the re-runnable <paramref name="status"/>.
    /// </summary>
    private async Task<RunRecord> CreateWithCheckpointsAsync(RunStatus status, int count, int keep = 3)
    {
        var run = await CreateAsync($"flow-{status}");
        var claimed = Assert.Single(await ClaimAsync(NodeA, flows: [run.FlowName]));
        for (var sequence = 1; sequence <= count; sequence++)
        {
            Time.Advance(TimeSpan.FromSeconds(1));
            await Store.SaveCheckpointAsync(claimed.Lease, CheckpointAt(sequence), keep, Ct);
        }

        return await BringToStatusAsync(claimed, status);
    }

    /// <summary>Brings a claimed run from Running to <paramref name="status"/> as an engine or an operator would.</summary>
    private async Task<RunRecord> BringToStatusAsync(ClaimedRun claimed, RunStatus status)
    {
        switch (status)
        {
            case RunStatus.Running:
                break;
            case RunStatus.WaitingForRetry:
                await Store.TransitionAsync(claimed.Lease, Retry(TimeSpan.FromMinutes(5)) with { LastError = "transient" }, Ct);
                break;
            case RunStatus.Interrupted:
                await Store.TransitionAsync(claimed.Lease, new RunTransition(RunStatus.Interrupted, RunEventKind.Interrupted, "engine stopping"), Ct);
                break;
            case RunStatus.Failed:
                await Store.TransitionAsync(claimed.Lease, Failure(), Ct);
                break;
            case RunStatus.Completed:
                await Store.CompleteRunAsync(claimed.Lease, Result, "done", Ct);
                break;
            case RunStatus.Cancelled:
                await Store.CancelRunAsync(claimed.Run.Id, "cancelled by operator", Ct);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(status), status, null);
        }

        var current = await Store.GetRunAsync(claimed.Run.Id, Ct);
        Assert.NotNull(current);
        Assert.Equal(status, current.Status);
        return current;
    }

    private async Task<Snapshot> SnapshotAsync(RunId runId)
    {
        var run = await Store.GetRunAsync(runId, Ct);
        Assert.NotNull(run);
        var data = await Store.GetRecoveryDataAsync(runId, Ct);
        var events = await Store.GetEventsAsync(runId, Ct);
        return new Snapshot(run, data.Input?.ToArray(), data.Checkpoint, events, await CountCheckpointsAsync(runId));
    }

    private async Task AssertUnchangedAsync(Snapshot before)
    {
        var after = await SnapshotAsync(before.Run.Id);
        Assert.Equal(before.Run, after.Run);
        Assert.Equal(before.Input, after.Input);
        Assert.Equal(before.Events, after.Events);
        Assert.Equal(before.CheckpointCount, after.CheckpointCount);
        Assert.Equal(before.Checkpoint is null, after.Checkpoint is null);
        if (before.Checkpoint is { } expected && after.Checkpoint is { } actual)
        {
            Assert.Equal(expected.Sequence, actual.Sequence);
            Assert.Equal(expected.Position, actual.Position);
            Assert.Equal(expected.RecoveryPoint, actual.RecoveryPoint);
            Assert.Equal(expected.StatusMessage, actual.StatusMessage);
            Assert.Equal(expected.Checksum, actual.Checksum);
            Assert.Equal(expected.CreatedAt, actual.CreatedAt);
            Assert.True(expected.State.Span.SequenceEqual(actual.State.Span), "the checkpoint's state changed");
        }
    }

    private sealed record Snapshot(RunRecord Run, byte[]? Input, Checkpoint? Checkpoint, IReadOnlyList<RunEvent> Events, int? CheckpointCount);
}
