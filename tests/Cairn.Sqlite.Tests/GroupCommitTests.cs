using Cairn.Flows;
using Cairn.Runs;
using Cairn.Storage;

namespace Cairn.Sqlite.Tests;

/// <summary>Group commit: concurrent writes share one transaction, each still succeeds or fails on its own.</summary>
public sealed class GroupCommitTests : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private readonly TemporaryDatabase _database = new();
    private readonly FakeTimeProvider _time = new();
    private readonly List<SqliteRunStore> _stores = [];
    private long _batchesBefore;

    public Task InitializeAsync() => OpenAsync(128);

    private SqliteRunStore Store => _stores[^1];

    public async Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        _database.Delete();
    }

    [Fact]
    public async Task SaveCheckpointAsync_WritesQueuedBehindCommit_AreCommittedInOneTransaction()
    {
        var leases = await ClaimRunsAsync(64);

        var writes = await QueueBehindHeldWriterAsync(leases.Select(lease => (Func<Task>)(() => SaveAsync(lease))).ToList());
        await Task.WhenAll(writes).WaitAsync(TimeSpan.FromSeconds(30));

        // The first writer commits alone (it found the store idle); the 63 that queued meanwhile share one transaction.
        Assert.Equal(2, Store.CommittedBatches - _batchesBefore);
        foreach (var lease in leases)
        {
            var run = await Store.GetRunAsync(lease.RunId, Ct);
            Assert.Equal("p", run!.LastRecoveryPoint);
            Assert.NotNull((await Store.GetRecoveryDataAsync(lease.RunId, Ct)).Checkpoint);
        }
    }

    [Fact]
    public async Task SaveCheckpointAsync_OneStaleLeaseInBatch_FailsAloneAndOthersCommit()
    {
        var leases = await ClaimRunsAsync(10);
        await Store.CancelRunAsync(leases[5].RunId, "cancelled", Ct);

        var writes = await QueueBehindHeldWriterAsync(leases.Select(lease => (Func<Task>)(() => SaveAsync(lease))).ToList());
        var outcomes = await Task.WhenAll(writes.Select(async write =>
        {
            try
            {
                await write;
                return null;
            }
            catch (RunOwnershipLostException ex)
            {
                return ex;
            }
        })).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(leases[5], Assert.Single(outcomes, o => o is not null)!.Lease);
        Assert.Null((await Store.GetRecoveryDataAsync(leases[5].RunId, Ct)).Checkpoint);
        Assert.Equal(RunStatus.Cancelled, (await Store.GetRunAsync(leases[5].RunId, Ct))!.Status);
        foreach (var lease in leases.Where(l => l != leases[5]))
        {
            Assert.NotNull((await Store.GetRecoveryDataAsync(lease.RunId, Ct)).Checkpoint);
        }
    }

    [Fact]
    public async Task SaveCheckpointAsync_GroupCommitOff_CommitsEveryWriteAlone()
    {
        await Store.DisposeAsync();
        await OpenAsync(1);
        var leases = await ClaimRunsAsync(8);

        var writes = await QueueBehindHeldWriterAsync(leases.Select(lease => (Func<Task>)(() => SaveAsync(lease))).ToList());
        await Task.WhenAll(writes).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(8, Store.CommittedBatches - _batchesBefore);
    }

    [Fact]
    public void Constructor_GroupCommitSizeBelowOne_ThrowsArgumentException()
    {
        var error = Assert.Throws<ArgumentException>(() => new SqliteRunStore(new SqliteStoreOptions { Path = _database.Path, MaxGroupCommitSize = 0 }));

        Assert.Contains("MaxGroupCommitSize", error.Message, StringComparison.Ordinal);
    }

    private async Task OpenAsync(int maxGroupCommitSize)
    {
        var store = new SqliteRunStore(new SqliteStoreOptions { Path = _database.Path, TimeProvider = _time, MaxGroupCommitSize = maxGroupCommitSize });
        _stores.Add(store);
        await store.InitializeAsync(Ct);
    }

    private async Task<List<RunLease>> ClaimRunsAsync(int count)
    {
        for (var i = 0; i < count; i++)
        {
            await Store.CreateRunAsync(new NewRun(RunId.New(), "orders", 1, $"r{i}-{Guid.NewGuid():N}", new byte[] { 1 }, "c", "{}"), Ct);
        }

        var claimed = await Store.ClaimDueRunsAsync(new ClaimRequest("node", ["orders"], count, TimeSpan.FromMinutes(5)), Ct);
        Assert.Equal(count, claimed.Count);
        return [.. claimed.Select(c => c.Lease)];
    }

    private Task SaveAsync(RunLease lease) =>
        Store.SaveCheckpointAsync(lease, new Checkpoint(1, FlowPath.Of(1), "p", null, new byte[] { 42 }, "c"), 1, Ct);

    /// <summary>
    /// Holds the writer's lock, starts the writes (the first becomes the leader and waits for the lock, the others
    /// queue behind it), then lets the writer go.
    /// </summary>
    private async Task<List<Task>> QueueBehindHeldWriterAsync(List<Func<Task>> writes)
    {
        _batchesBefore = Store.CommittedBatches;
        await Store.WriteLock.WaitAsync();
        List<Task> started;
        try
        {
            started = [.. writes.Select(write => Task.Run(write))];
            var queued = SpinWait.SpinUntil(() => Store.QueuedWrites == writes.Count - 1, TimeSpan.FromSeconds(30));
            Assert.True(queued, $"only {Store.QueuedWrites} writes queued behind the leader");
        }
        finally
        {
            Store.WriteLock.Release();
        }

        return started;
    }
}
