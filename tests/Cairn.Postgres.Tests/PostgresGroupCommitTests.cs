using Cairn.Flows;
using Cairn.Runs;
using Cairn.Storage;
using Npgsql;

namespace Cairn.Postgres.Tests;

/// <summary>Group commit: concurrent writes share one transaction and one round trip, each still succeeds or fails on its own.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresGroupCommitTests(PostgresCluster cluster) : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private readonly string _schema = cluster.NewSchema("group");
    private readonly List<PostgresRunStore> _stores = [];
    private long _batchesBefore;

    private PostgresRunStore Store => _stores[^1];

    public Task InitializeAsync() => OpenAsync(PostgresStoreOptions.GroupCommitLimit);

    public async Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        await cluster.DropSchemaAsync(_schema);
    }

    [Fact]
    public async Task SaveCheckpointAsync_WritesQueuedBehindCommit_AreCommittedInOneTransaction()
    {
        var leases = await ClaimRunsAsync(64);

        var writes = await QueueBehindHeldWriterAsync([.. leases.Select(lease => (Func<Task>)(() => SaveAsync(lease)))]);
        await Task.WhenAll(writes).WaitAsync(TimeSpan.FromSeconds(30));

        // The first writer commits alone (it found the store idle); the 63 that queued meanwhile share one transaction.
        Assert.Equal(2, Store.CommittedBatches - _batchesBefore);
        foreach (var lease in leases)
        {
            Assert.Equal("p", (await Store.GetRunAsync(lease.RunId, Ct))!.LastRecoveryPoint);
            Assert.NotNull((await Store.GetRecoveryDataAsync(lease.RunId, Ct)).Checkpoint);
        }
    }

    [Fact]
    public async Task SaveCheckpointAsync_OneStaleLeaseInBatch_FailsAloneAndOthersCommit()
    {
        var leases = await ClaimRunsAsync(10);
        await Store.CancelRunAsync(leases[5].RunId, "cancelled", Ct);

        var writes = await QueueBehindHeldWriterAsync([.. leases.Select(lease => (Func<Task>)(() => SaveAsync(lease)))]);
        var outcomes = await OutcomesAsync(writes);

        var refused = Assert.IsType<RunOwnershipLostException>(Assert.Single(outcomes, o => o is not null));
        Assert.Equal(leases[5], refused.Lease);
        Assert.Null((await Store.GetRecoveryDataAsync(leases[5].RunId, Ct)).Checkpoint);
        Assert.Equal(RunStatus.Cancelled, (await Store.GetRunAsync(leases[5].RunId, Ct))!.Status);
        foreach (var lease in leases.Where(l => l != leases[5]))
        {
            Assert.NotNull((await Store.GetRecoveryDataAsync(lease.RunId, Ct)).Checkpoint);
        }

        Assert.Equal(2, Store.CommittedBatches - _batchesBefore);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task Writes_DatabaseErrorsInBatch_FailAloneAndOthersCommit(int rounds)
    {
        for (var round = 0; round < rounds; round++)
        {
            // Later rounds run on statements the connection has prepared by then.
            await AssertDatabaseErrorsFailAloneAsync();
        }
    }

    private async Task AssertDatabaseErrorsFailAloneAsync()
    {
        var leases = await ClaimRunsAsync(6);
        var taken = (await Store.GetRunAsync(leases[0].RunId, Ct))!;

        // A new run that reuses an existing run's ID violates the primary key: a database error, not a refused fence.
        Func<Task> duplicate = () => Store.CreateRunAsync(NewRun() with { Id = taken.Id }, Ct);
        var writes = await QueueBehindHeldWriterAsync(
        [
            () => SaveAsync(leases[0]),
            () => SaveAsync(leases[1]),
            duplicate,
            () => SaveAsync(leases[2]),
            () => SaveAsync(leases[3]),
            duplicate,
            () => SaveAsync(leases[4]),
            duplicate,
        ]);
        var outcomes = await OutcomesAsync(writes);

        Assert.Equal(2, Store.CommittedBatches - _batchesBefore);
        Assert.Equal([2, 5, 7], outcomes.Select((o, i) => (o, i)).Where(x => x.o is not null).Select(x => x.i));
        Assert.All(outcomes.Where(o => o is not null), o => Assert.Equal(PostgresErrorCodes.UniqueViolation, Assert.IsType<PostgresException>(o).SqlState));
        foreach (var lease in leases.Take(5))
        {
            Assert.Equal(1, (await Store.GetRecoveryDataAsync(lease.RunId, Ct)).Checkpoint?.Sequence);
        }

        Assert.Equal(taken.RecoveryId, (await Store.GetRunAsync(taken.Id, Ct))!.RecoveryId);
        await SaveAsync(leases[5]);
        Assert.Equal(1, (await Store.GetRecoveryDataAsync(leases[5].RunId, Ct)).Checkpoint?.Sequence);
    }

    [Fact]
    public async Task SaveCheckpointAsync_ThreeWriters_CommitThreeGroupsAtOnce_AndEveryWriteOnce()
    {
        await Store.DisposeAsync();
        await OpenAsync(PostgresStoreOptions.GroupCommitLimit, writers: 3);
        var leases = await ClaimRunsAsync(20);
        _batchesBefore = Store.CommittedBatches;

        // With every writer's permit held, the first three writes each lead a group of their own and wait; the rest queue.
        for (var i = 0; i < 3; i++)
        {
            await Store.WriteLock.WaitAsync();
        }

        var writes = new List<Task>();
        try
        {
            writes.AddRange(leases.Select(SaveAsync));
            Assert.Equal(17, Store.QueuedWrites);
        }
        finally
        {
            Store.WriteLock.Release(3);
        }

        await Task.WhenAll(writes).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.InRange(Store.CommittedBatches - _batchesBefore, 4, 20);
        Assert.Equal(0, Store.QueuedWrites);
        foreach (var lease in leases)
        {
            var recovery = await Store.GetRecoveryDataAsync(lease.RunId, Ct);
            Assert.Equal(1, recovery.Checkpoint?.Sequence);
        }

        var events = await Store.GetEventsAsync(leases[7].RunId, Ct);
        Assert.Single(events, e => e.Kind == RunEventKind.RecoveryPointPassed);
    }

    [Fact]
    public async Task RenewLeasesAsync_ARunRowLockedByAnotherTransaction_IsSkippedNotWaitedFor()
    {
        var leases = await ClaimRunsAsync(3);
        await using var connection = new NpgsqlConnection(cluster.ConnectionString);
        await connection.OpenAsync(Ct);
        await using var transaction = await connection.BeginTransactionAsync(Ct);
        await using (var hold = new NpgsqlCommand($"SELECT 1 FROM \"{_schema}\".runs WHERE run_id = @id FOR UPDATE", connection, transaction))
        {
            hold.Parameters.AddWithValue("id", leases[1].RunId.Value);
            await hold.ExecuteScalarAsync(Ct);
        }

        // A group commit in flight holds its runs' rows like this: the heartbeat renews the others and leaves it for next time.
        var renewed = await Store.RenewLeasesAsync("node", TimeSpan.FromMinutes(5), Ct).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(2, renewed);
        await transaction.RollbackAsync(Ct);
        Assert.Equal(3, await Store.RenewLeasesAsync("node", TimeSpan.FromMinutes(5), Ct));
    }

    [Fact]
    public async Task Writes_TheWritersConnection_IsKeptBetweenGroups_AndReplacedWhenTheServerEndsIt()
    {
        var leases = await ClaimRunsAsync(3);
        await SaveAsync(leases[0]);
        Assert.Equal(1, Store.KeptWriterConnections);
        var pid = await WriterBackendAsync();
        await Store.SaveCheckpointAsync(leases[1], new Checkpoint(1, FlowPath.Of(1), "p", null, new byte[] { 1 }, "c"), 1, Ct);
        Assert.Equal(pid, await WriterBackendAsync()); // the same session served the second group

        await using (var admin = await OpenAdminAsync())
        await using (var terminate = new NpgsqlCommand("SELECT pg_terminate_backend(@pid)", admin))
        {
            terminate.Parameters.AddWithValue("pid", pid);
            Assert.True((bool)(await terminate.ExecuteScalarAsync(Ct))!);
        }

        // The write that finds the session gone fails as unavailable and changes nothing; the next one opens a fresh session.
        var lost = await Record.ExceptionAsync(() => SaveAsync(leases[2]));
        Assert.True(lost is null or StoreUnavailableException, lost?.ToString());
        await SaveAsync(leases[2]);
        Assert.NotEqual(pid, await WriterBackendAsync());
        Assert.NotNull((await Store.GetRecoveryDataAsync(leases[2].RunId, Ct)).Checkpoint);
    }

    // The backend of the connection the group writer keeps: the idle session whose last statement saved a checkpoint.
    private async Task<int> WriterBackendAsync()
    {
        await using var connection = await OpenAdminAsync();
        await using var command = new NpgsqlCommand(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'cairn' AND state = 'idle' AND query LIKE '%INSERT INTO%checkpoints%' ORDER BY state_change DESC LIMIT 1",
            connection);
        return (int)(await command.ExecuteScalarAsync(Ct))!;
    }

    private async Task<NpgsqlConnection> OpenAdminAsync()
    {
        var connection = new NpgsqlConnection(cluster.ConnectionString);
        await connection.OpenAsync(Ct);
        return connection;
    }

    [Fact]
    public void Options_GroupCommitWritersOutOfRange_AreRefusedByName()
    {
        foreach (var writers in new[] { 0, PostgresStoreOptions.GroupCommitWritersLimit + 1 })
        {
            var error = Assert.Throws<ArgumentException>(() => new PostgresRunStore(new PostgresStoreOptions { ConnectionString = cluster.ConnectionString, GroupCommitWriters = writers }));
            Assert.Contains($"GroupCommitWriters must be between 1 and {PostgresStoreOptions.GroupCommitWritersLimit}; it is {writers}", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Writes_GroupCommitOff_CommitEveryWriteAloneAndConcurrently()
    {
        await Store.DisposeAsync();
        await OpenAsync(1);
        var leases = await ClaimRunsAsync(8);
        _batchesBefore = Store.CommittedBatches;

        await Task.WhenAll(leases.Select(SaveAsync)).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(8, Store.CommittedBatches - _batchesBefore);
        foreach (var lease in leases)
        {
            Assert.NotNull((await Store.GetRecoveryDataAsync(lease.RunId, Ct)).Checkpoint);
        }
    }

    // One writer unless said otherwise: the tests count the batches that one writer commits.
    private async Task OpenAsync(int maxGroupCommitSize, int writers = 1)
    {
        var store = new PostgresRunStore(new PostgresStoreOptions
        {
            ConnectionString = cluster.ConnectionString, Schema = _schema, MaxGroupCommitSize = maxGroupCommitSize, GroupCommitWriters = writers,
        });
        _stores.Add(store);
        await store.InitializeAsync(Ct);
    }

    private async Task<List<RunLease>> ClaimRunsAsync(int count)
    {
        for (var i = 0; i < count; i++)
        {
            await Store.CreateRunAsync(NewRun(), Ct);
        }

        var claimed = await Store.ClaimDueRunsAsync(new ClaimRequest("node", ["orders"], count, TimeSpan.FromMinutes(5)), Ct);
        Assert.Equal(count, claimed.Count);
        return [.. claimed.Select(c => c.Lease)];
    }

    private static NewRun NewRun() => new(RunId.New(), "orders", 1, Guid.NewGuid().ToString("N"), new byte[] { 1 }, "c", "{}");

    private Task SaveAsync(RunLease lease) =>
        Store.SaveCheckpointAsync(lease, new Checkpoint(1, FlowPath.Of(1), "p", null, new byte[] { 42 }, "c"), 1, Ct);

    private static async Task<Exception?[]> OutcomesAsync(List<Task> writes) =>
        await Task.WhenAll(writes.Select(async write =>
        {
            try
            {
                await write;
                return null;
            }
            catch (Exception ex)
            {
                return ex;
            }
        })).WaitAsync(TimeSpan.FromSeconds(30));

    /// <summary>
    /// Holds the writer's lock, starts the writes in order (the first becomes the leader and waits for the lock, the
    /// others queue behind it), then lets the writer go.
    /// </summary>
    private async Task<List<Task>> QueueBehindHeldWriterAsync(List<Func<Task>> writes)
    {
        _batchesBefore = Store.CommittedBatches;
        await Store.WriteLock.WaitAsync();
        var started = new List<Task>();
        try
        {
            foreach (var write in writes)
            {
                started.Add(write());
            }

            Assert.Equal(writes.Count - 1, Store.QueuedWrites);
        }
        finally
        {
            Store.WriteLock.Release();
        }

        return started;
    }
}
