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
        Assert.Equal(
            new RunEvent(Time.GetUtcNow(), RunEventKind.Started, 2, "attempt 2 resumed on node-b from recovery point 'point-1'") { RecoveryPoint = "point-1" },
            started);
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
}
