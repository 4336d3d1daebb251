using Cairn.Flows;
using Cairn.Runs;
using Cairn.Storage;
using Microsoft.Data.Sqlite;

namespace Cairn.Sqlite.Tests;

/// <summary>The SQLite store's stage transactions beyond the contract: the write lock they hold, and how other writes wait for it.</summary>
public sealed class SqliteStageTransactionTests : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    private readonly TemporaryDatabase _database = new();
    private readonly FakeTimeProvider _time = new();
    private readonly List<SqliteRunStore> _stores = [];

    private SqliteRunStore Store => _stores[^1];

    public Task InitializeAsync() => OpenAsync(TimeSpan.FromSeconds(5));

    public async Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        _database.Delete();
    }

    [Fact]
    public async Task CommitAsync_RunCancelledBeforeTheTransactionBegan_ThrowsOwnershipLost_AndRollsBackTheStagesWrites()
    {
        var lease = await StartRunAsync();
        await Store.CancelRunAsync(lease.RunId, "cancelled by operator", Ct);

        await using (var transaction = await Store.BeginStageTransactionAsync(lease, Ct))
        {
            WriteEffect(transaction, "order 42 saved");
            await Assert.ThrowsAsync<RunOwnershipLostException>(() => transaction.CommitAsync(Checkpoint(lease.RunId), keep: 3, Ct));
        }

        Assert.Equal(0L, CountEffects());
        Assert.Null((await Store.GetRecoveryDataAsync(lease.RunId, Ct)).Checkpoint);
        Assert.Empty(await Store.ListOutboxAsync(new OutboxQuery(), Ct));
        Assert.Equal(1, Store.WriteLock.CurrentCount);
    }

    [Fact]
    public async Task Writes_WhileAStageTransactionStaysOpenPastTheBusyTimeout_FailAsBusy_AndWritesAfterItSucceed()
    {
        await Store.DisposeAsync();
        await OpenAsync(TimeSpan.FromMilliseconds(200));
        var (stage, other) = (await StartRunAsync(), await StartRunAsync());

        await using (var transaction = await Store.BeginStageTransactionAsync(stage, Ct))
        {
            var error = await Assert.ThrowsAsync<SqliteException>(() => Store.SaveCheckpointAsync(other, Checkpoint(other.RunId), keep: 3, Ct));
            Assert.Equal(5, error.SqliteErrorCode); // SQLITE_BUSY
            await transaction.CommitAsync(Checkpoint(stage.RunId), keep: 3, Ct);
        }

        await Store.SaveCheckpointAsync(other, Checkpoint(other.RunId), keep: 3, Ct);
        Assert.Equal(1, (await Store.GetRunAsync(other.RunId, Ct))!.CheckpointSequence);
        Assert.Equal(1, (await Store.GetRunAsync(stage.RunId, Ct))!.CheckpointSequence);
    }

    [Fact]
    public async Task SecondStageTransaction_WaitsForTheFirstToEnd()
    {
        var (first, second) = (await StartRunAsync(), await StartRunAsync());
        var open = await Store.BeginStageTransactionAsync(first, Ct);
        var next = Store.BeginStageTransactionAsync(second, Ct);
        await Task.Delay(100);
        Assert.False(next.IsCompleted);

        WriteEffect(open, "first");
        await open.CommitAsync(Checkpoint(first.RunId), keep: 3, Ct);
        await using (var transaction = await next.WaitAsync(TimeSpan.FromSeconds(30)))
        {
            WriteEffect(transaction, "second");
            await transaction.CommitAsync(Checkpoint(second.RunId), keep: 3, Ct);
        }

        await open.DisposeAsync();
        Assert.Equal(2L, CountEffects());
    }

    [Fact]
    public async Task CommitThenDisposeTwice_ReleasesTheWriteLockOnce_AndASecondCommitThrows()
    {
        var lease = await StartRunAsync();
        var transaction = await Store.BeginStageTransactionAsync(lease, Ct);
        Assert.Equal(0, Store.WriteLock.CurrentCount);

        await transaction.CommitAsync(Checkpoint(lease.RunId), keep: 3, Ct);
        await transaction.DisposeAsync();
        await transaction.DisposeAsync();

        Assert.Equal(1, Store.WriteLock.CurrentCount);
        await Assert.ThrowsAsync<InvalidOperationException>(() => transaction.CommitAsync(Checkpoint(lease.RunId), keep: 3, Ct));
        Assert.Equal(1, Store.WriteLock.CurrentCount);
    }

    [Fact]
    public async Task CommitAsync_KeepsTheCheckpointsCompensationText()
    {
        var lease = await StartRunAsync();
        await using (var transaction = await Store.BeginStageTransactionAsync(lease, Ct))
        {
            await transaction.CommitAsync(Checkpoint(lease.RunId) with { Compensation = "undo" }, keep: 3, Ct);
        }

        Assert.Equal("undo", (await Store.GetRecoveryDataAsync(lease.RunId, Ct)).Checkpoint!.Compensation);
    }

    private async Task OpenAsync(TimeSpan busyTimeout)
    {
        var store = new SqliteRunStore(new SqliteStoreOptions { Path = _database.Path, TimeProvider = _time, BusyTimeout = busyTimeout });
        _stores.Add(store);
        await store.InitializeAsync(Ct);
        using var connection = store.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "CREATE TABLE IF NOT EXISTS app_effects (effect TEXT NOT NULL)";
        command.ExecuteNonQuery();
    }

    private async Task<RunLease> StartRunAsync()
    {
        var input = "{}"u8.ToArray();
        var created = await Store.CreateRunAsync(
            new NewRun(RunId.New(), "purchase", 1, Guid.NewGuid().ToString("N"), input, StoreRules.StateChecksum(input), "{}", new NewRunClaim("node-a", Lease)),
            Ct);
        return created.Lease!;
    }

    private static Checkpoint Checkpoint(RunId runId)
    {
        var state = "{\"order\":42}"u8.ToArray();
        return new Checkpoint(1, FlowPath.Of(1), "order-saved", null, state, StoreRules.StateChecksum(state))
        {
            Outbox = [new OutboxMessage(StoreRules.OutboxMessageId(runId, 1, 0), runId, 1, 0, "NewOrder", "{}"u8.ToArray())],
        };
    }

    private static void WriteEffect(StageTransaction transaction, string effect)
    {
        using var command = (SqliteCommand)transaction.Transaction.Connection!.CreateCommand();
        command.Transaction = (SqliteTransaction)transaction.Transaction;
        command.CommandText = "INSERT INTO app_effects (effect) VALUES ($effect)";
        command.Parameters.AddWithValue("$effect", effect);
        command.ExecuteNonQuery();
    }

    private long CountEffects()
    {
        using var connection = Store.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM app_effects";
        return (long)command.ExecuteScalar()!;
    }
}
