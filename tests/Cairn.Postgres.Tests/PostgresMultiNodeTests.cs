using System.Collections.Concurrent;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Storage;

namespace Cairn.Postgres.Tests;

/// <summary>Several nodes, each with its own store and connection pool, claiming from one database.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresMultiNodeTests(PostgresCluster cluster) : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);
    private readonly string _schema = cluster.NewSchema("nodes");
    private readonly List<PostgresRunStore> _nodes = [];

    public async Task InitializeAsync()
    {
        for (var i = 0; i < 2; i++)
        {
            var node = new PostgresRunStore(new PostgresStoreOptions { ConnectionString = cluster.ConnectionString, Schema = _schema });
            _nodes.Add(node);
            await node.InitializeAsync(Ct);
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }

        await cluster.DropSchemaAsync(_schema);
    }

    [Fact]
    public async Task ClaimDueRunsAsync_ClaimersOnTwoNodes_NeverClaimARunTwice()
    {
        const int RunCount = 300;
        await Task.WhenAll(Enumerable.Range(0, RunCount).Select(i =>
            _nodes[i % 2].CreateRunAsync(new NewRun(RunId.New(), "orders", 1, $"run-{i}", new byte[] { 1 }, "c", "{}"), Ct)));

        var claims = new ConcurrentBag<ClaimedRun>();
        var claimers = Enumerable.Range(0, 6).Select(n => Task.Run(async () =>
        {
            var node = _nodes[n % 2];
            while (await node.ClaimDueRunsAsync(new ClaimRequest($"node-{n % 2}-{n}", ["orders"], 7, Lease), Ct) is { Count: > 0 } batch)
            {
                foreach (var claim in batch)
                {
                    claims.Add(claim);
                }
            }
        }));
        await Task.WhenAll(claimers).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(RunCount, claims.Count);
        Assert.Equal(RunCount, claims.Select(c => c.Run.Id).Distinct().Count());
        Assert.All(claims, c => Assert.Equal(1, c.Lease.Epoch));
        Assert.Equal(RunCount, await cluster.ScalarAsync<long>($"SELECT count(*) FROM \"{_schema}\".runs WHERE status = 1 AND attempt = 1"));
        Assert.Equal(RunCount, await cluster.ScalarAsync<long>($"SELECT count(*) FROM \"{_schema}\".events WHERE kind = 1"));
    }

    [Fact]
    public async Task AcquireWorkerLockAsync_NameHeldByALiveNode_IsRefusedUntilReleased()
    {
        var held = await _nodes[0].AcquireWorkerLockAsync("node-x", Ct);
        Assert.NotNull(held);

        var error = await Assert.ThrowsAsync<StoreUnavailableException>(async () => await _nodes[1].AcquireWorkerLockAsync("node-x", Ct));
        Assert.Contains("'node-x' is in use by another live node", error.Message, StringComparison.Ordinal);
        var other = await _nodes[1].AcquireWorkerLockAsync("node-y", Ct);
        Assert.NotNull(other);

        await held.DisposeAsync();
        var taken = await _nodes[1].AcquireWorkerLockAsync("node-x", Ct);
        Assert.NotNull(taken);
        await taken.DisposeAsync();
        await other.DisposeAsync();
    }

    [Fact]
    public async Task InterruptAbandonedRunsAsync_NodeRestartedUnderItsName_ResumesItsRunsBeforeTheirLeasesExpire()
    {
        await _nodes[0].CreateRunAsync(new NewRun(RunId.New(), "orders", 1, "mine", new byte[] { 1 }, "c", "{}"), Ct);
        var dead = await _nodes[0].AcquireWorkerLockAsync("node-x", Ct);
        var claimed = Assert.Single(await _nodes[0].ClaimDueRunsAsync(new ClaimRequest("node-x", ["orders"], 10, Lease), Ct));
        await _nodes[1].CreateRunAsync(new NewRun(RunId.New(), "orders", 1, "theirs", new byte[] { 1 }, "c", "{}"), Ct);
        var live = await _nodes[1].AcquireWorkerLockAsync("node-y", Ct);
        var theirs = Assert.Single(await _nodes[1].ClaimDueRunsAsync(new ClaimRequest("node-y", ["orders"], 10, Lease), Ct));

        // The process of node-x dies: its session ends, and the lock of its name with it. With a timeout,
        // pg_terminate_backend waits until the backend has exited (and released its locks) instead of only signalling it.
        var terminated = await cluster.ScalarAsync<bool>(
            "SELECT bool_and(pg_terminate_backend(pid, 10000)) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid() " +
            $"AND ((classid::bigint << 32) | objid::bigint) = {PostgresNodeLock.Key(_schema, "node-x")}");
        Assert.True(terminated, "The session holding node-x's lock did not exit within 10 s.");
        await dead!.DisposeAsync();
        var restarted = await _nodes[1].AcquireWorkerLockAsync("node-x", Ct);

        Assert.Equal(1, await _nodes[1].InterruptAbandonedRunsAsync("node-x", exclusive: true, TimeSpan.Zero, Ct));
        Assert.Equal(RunStatus.Interrupted, (await _nodes[1].GetRunAsync(claimed.Run.Id, Ct))?.Status);
        Assert.Equal(RunStatus.Running, (await _nodes[1].GetRunAsync(theirs.Run.Id, Ct))?.Status);
        var resumed = Assert.Single(await _nodes[1].ClaimDueRunsAsync(new ClaimRequest("node-x", ["orders"], 10, Lease), Ct));
        Assert.Equal(claimed.Run.Id, resumed.Run.Id);
        Assert.Equal(2, resumed.Lease.Epoch);
        await restarted!.DisposeAsync();
        await live!.DisposeAsync();
    }

    [Fact]
    public async Task CreateRunAsync_SameRecoveryIdOnTwoNodesAtOnce_CreatesOneRun()
    {
        for (var round = 0; round < 20; round++)
        {
            var recoveryId = $"order-{round}";
            var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(n => Task.Run(() =>
                _nodes[n % 2].CreateRunAsync(new NewRun(RunId.New(), "orders", 1, recoveryId, new byte[] { (byte)n }, "c", "{}"), Ct))));

            var created = Assert.Single(results, r => r.Created);
            Assert.All(results, r => Assert.Equal(created.Run, r.Run));
            Assert.Single(await _nodes[1].GetEventsAsync(created.Run.Id, Ct));
        }
    }

    [Fact]
    public async Task SaveCheckpointAsync_NodeWhoseRunWasTakenOver_IsRefused()
    {
        var run = (await _nodes[0].CreateRunAsync(new NewRun(RunId.New(), "orders", 1, "taken-over", new byte[] { 1 }, "c", "{}"), Ct)).Run;
        var stale = Assert.Single(await _nodes[0].ClaimDueRunsAsync(new ClaimRequest("node-0", ["orders"], 1, Lease), Ct));

        // Node 0 is paused past its lease: expire it on the database's clock, then node 1 takes the run over.
        await cluster.ExecuteAsync($"UPDATE \"{_schema}\".runs SET lease_expires_at = now() - interval '1 second'");
        Assert.Equal(1, await _nodes[1].InterruptAbandonedRunsAsync("node-1", exclusive: false, TimeSpan.Zero, Ct));
        var current = Assert.Single(await _nodes[1].ClaimDueRunsAsync(new ClaimRequest("node-1", ["orders"], 1, Lease), Ct));

        await Assert.ThrowsAsync<RunOwnershipLostException>(() =>
            _nodes[0].SaveCheckpointAsync(stale.Lease, new Checkpoint(1, FlowPath.Of(1), "late", null, new byte[] { 1 }, "c"), 1, Ct));
        await _nodes[1].SaveCheckpointAsync(current.Lease, new Checkpoint(1, FlowPath.Of(1), "p", null, new byte[] { 2 }, "c"), 1, Ct);

        var after = await _nodes[0].GetRunAsync(run.Id, Ct);
        Assert.Equal(("node-1", 2L, "p"), (after!.Owner, after.LeaseEpoch, after.LastRecoveryPoint));
    }

    [Fact]
    public async Task ClaimOutboxAsync_DispatchersOnTwoNodes_NeverHoldOneMessageAtOnce_AndDeliverEachOnceInRunOrder()
    {
        const int RunCount = 40;
        const int Checkpoints = 3;
        const int MessagesPerCheckpoint = 3;
        const int MessageCount = RunCount * Checkpoints * MessagesPerCheckpoint;
        await Task.WhenAll(Enumerable.Range(0, RunCount).Select(i =>
            _nodes[i % 2].CreateRunAsync(new NewRun(RunId.New(), "orders", 1, $"outbox-{i}", new byte[] { 1 }, "c", "{}"), Ct)));
        var runs = await _nodes[0].ClaimDueRunsAsync(new ClaimRequest("node-0", ["orders"], RunCount, Lease), Ct);
        Assert.Equal(RunCount, runs.Count);
        for (var sequence = 1; sequence <= Checkpoints; sequence++)
        {
            var current = sequence;
            await Task.WhenAll(runs.Select((claimed, i) => _nodes[i % 2].SaveCheckpointAsync(
                claimed.Lease,
                new Checkpoint(current, FlowPath.Of(current), $"point-{current}", null, new byte[] { 1 }, "c")
                {
                    Outbox =
                    [
                        .. Enumerable.Range(0, MessagesPerCheckpoint).Select(index => new OutboxMessage(
                            StoreRules.OutboxMessageId(claimed.Run.Id, current, index), claimed.Run.Id, current, index, "orders", new byte[] { (byte)index })),
                    ],
                },
                keep: 3,
                Ct)));
        }

        var held = new ConcurrentDictionary<Guid, string>();
        var overlaps = new ConcurrentBag<Guid>();
        var claims = new ConcurrentBag<Guid>();
        var orderByRun = new ConcurrentDictionary<RunId, List<(long, int)>>();
        var delivered = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var dispatchers = Enumerable.Range(0, 6).Select(n => Task.Run(async () =>
        {
            var node = _nodes[n % 2];
            var owner = $"dispatcher-{n % 2}-{n}";
            while (Volatile.Read(ref delivered) < MessageCount && !timeout.IsCancellationRequested)
            {
                var batch = await node.ClaimOutboxAsync(owner, 5, TimeSpan.FromMinutes(5), Ct);
                if (batch.Count == 0)
                {
                    await Task.Delay(5, Ct);
                    continue;
                }

                foreach (var message in batch)
                {
                    claims.Add(message.Id);
                    if (!held.TryAdd(message.Id, owner))
                    {
                        overlaps.Add(message.Id);
                    }

                    var order = orderByRun.GetOrAdd(message.RunId, _ => []);
                    lock (order)
                    {
                        order.Add((message.CheckpointSequence, message.Index));
                    }
                }

                var count = await node.MarkOutboxDeliveredAsync([.. batch.Select(m => m.Id)], owner, Ct);
                Assert.Equal(batch.Count, count);
                foreach (var message in batch)
                {
                    held.TryRemove(message.Id, out _);
                }

                Interlocked.Add(ref delivered, count);
            }
        }));
        await Task.WhenAll(dispatchers).WaitAsync(TimeSpan.FromSeconds(90));

        Assert.Empty(overlaps);
        Assert.Equal(MessageCount, claims.Count);
        Assert.Equal(MessageCount, claims.Distinct().Count());
        Assert.Equal(MessageCount, delivered);
        var expected = Enumerable.Range(1, Checkpoints)
            .SelectMany(sequence => Enumerable.Range(0, MessagesPerCheckpoint).Select(index => ((long)sequence, index)))
            .ToList();
        Assert.Equal(RunCount, orderByRun.Count);
        Assert.All(orderByRun.Values, order => Assert.Equal(expected, order));
        Assert.Equal(0L, await cluster.ScalarAsync<long>($"SELECT count(*) FROM \"{_schema}\".outbox"));
    }
}
