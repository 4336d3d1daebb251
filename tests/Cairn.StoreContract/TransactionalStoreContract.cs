using System.Data.Common;
using System.Text;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Storage;

namespace Cairn.StoreContract;

/// <summary>
/// What a store whose own database transactional stages write to (<see cref="ITransactionalRunStore"/>) promises: the
/// stage's writes and the checkpoint commit together, fenced, or not at all. A store's test project subclasses it and
/// creates, in the store's database, the application table <see cref="EffectsTable"/> with one text column <c>effect</c>.
/// </summary>
public abstract class TransactionalStoreContract : IAsyncLifetime
{
    private const string Flow = "purchase";
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private RunStore? _store;

    /// <summary>The store's clock.</summary>
    protected FakeTimeProvider Time { get; } = new();

    /// <summary>The store under test.</summary>
    protected RunStore Store => _store ?? throw new InvalidOperationException("The store is created in InitializeAsync.");

    /// <summary>The application's table in the store's database, as SQL names it (<c>shop.effects</c>).</summary>
    protected abstract string EffectsTable { get; }

    private ITransactionalRunStore Transactional => Assert.IsAssignableFrom<ITransactionalRunStore>(Store);

    private static CancellationToken Ct => CancellationToken.None;

    /// <summary>Creates a fresh, empty, initialized store on <paramref name="time"/>, and the application table beside it.</summary>
    protected abstract Task<RunStore> CreateStoreAsync(FakeTimeProvider time);

    public virtual async Task InitializeAsync() => _store = await CreateStoreAsync(Time);

    public virtual async Task DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }
    }

    [Fact]
    public async Task CommitAsync_CommitsTheStagesWritesWithTheCheckpointAndItsOutboxMessages()
    {
        var claimed = await StartRunAsync();
        await using (var transaction = await Transactional.BeginStageTransactionAsync(claimed.Lease, Ct))
        {
            await WriteEffectAsync(transaction, "order 42 saved");
            await transaction.CommitAsync(CheckpointWithMessage(claimed.Run.Id, 1), keep: 3, Ct);
        }

        Assert.Equal(["order 42 saved"], await ReadEffectsAsync(claimed.Lease));
        var run = await Store.GetRunAsync(claimed.Run.Id, Ct);
        Assert.Equal((1L, "order-received", "order saved"), (run!.CheckpointSequence, run.LastRecoveryPoint, run.StatusMessage));
        var checkpoint = (await Store.GetRecoveryDataAsync(claimed.Run.Id, Ct)).Checkpoint!;
        Assert.Equal((1L, FlowPath.Of(1), "{\"order\":42}"), (checkpoint.Sequence, checkpoint.Position, Encoding.UTF8.GetString(checkpoint.State.Span)));
        var passed = (await Assert.IsAssignableFrom<IRunQueries>(Store).GetEventsAsync(claimed.Run.Id, Ct))[^1];
        Assert.Equal((RunEventKind.RecoveryPointPassed, "order-received"), (passed.Kind, passed.RecoveryPoint));
        var message = Assert.Single(await Assert.IsAssignableFrom<IOutboxStore>(Store).ListOutboxAsync(new OutboxQuery(), Ct));
        Assert.Equal((StoreRules.OutboxMessageId(claimed.Run.Id, 1, 0), "NewOrder"), (message.Id, message.Destination));
    }

    [Fact]
    public async Task DisposeAsync_WithoutCommit_RollsBackTheStagesWrites_AndSavesNoCheckpoint()
    {
        var claimed = await StartRunAsync();
        await using (var transaction = await Transactional.BeginStageTransactionAsync(claimed.Lease, Ct))
        {
            await WriteEffectAsync(transaction, "order 42 saved");
        }

        Assert.Empty(await ReadEffectsAsync(claimed.Lease));
        Assert.Null((await Store.GetRecoveryDataAsync(claimed.Run.Id, Ct)).Checkpoint);
        Assert.Empty(await Assert.IsAssignableFrom<IOutboxStore>(Store).ListOutboxAsync(new OutboxQuery(), Ct));
    }

    [Fact]
    public async Task CommitAsync_AfterCancel_ThrowsOwnershipLost_AndCommitsNeitherTheWritesNorTheCheckpoint()
    {
        // The cancel commits before the stage's transaction opens: a single-writer store (SQLite) cannot commit it while
        // the stage holds the write lock. The lease is checked at commit either way.
        var claimed = await StartRunAsync();
        await Assert.IsAssignableFrom<IRunOperations>(Store).CancelRunAsync(claimed.Run.Id, "cancelled by operator", Ct);
        await using (var transaction = await Transactional.BeginStageTransactionAsync(claimed.Lease, Ct))
        {
            await WriteEffectAsync(transaction, "order 42 saved");
            await Assert.ThrowsAsync<RunOwnershipLostException>(() => transaction.CommitAsync(CheckpointWithMessage(claimed.Run.Id, 1), keep: 3, Ct));
        }

        Assert.Empty(await ReadEffectsAsync(claimed.Lease));
        Assert.Null((await Store.GetRecoveryDataAsync(claimed.Run.Id, Ct)).Checkpoint);
        Assert.Empty(await Assert.IsAssignableFrom<IOutboxStore>(Store).ListOutboxAsync(new OutboxQuery(), Ct));
        Assert.Equal(RunStatus.Cancelled, (await Store.GetRunAsync(claimed.Run.Id, Ct))!.Status);
    }

    [Fact]
    public async Task CommitAsync_AfterAnotherNodeTookTheRunOver_ThrowsOwnershipLost_AndCommitsNothing()
    {
        var stale = await StartRunAsync();
        Time.Advance(Lease + TimeSpan.FromSeconds(1));
        await Store.InterruptAbandonedRunsAsync("node-b", exclusive: false, TimeSpan.Zero, Ct);
        var successor = Assert.Single(await Store.ClaimDueRunsAsync(new ClaimRequest("node-b", [Flow], 1, Lease), Ct));
        Assert.Equal(stale.Run.Id, successor.Run.Id);
        await using (var transaction = await Transactional.BeginStageTransactionAsync(stale.Lease, Ct))
        {
            await WriteEffectAsync(transaction, "written by the node that lost its lease");
            await Assert.ThrowsAsync<RunOwnershipLostException>(() => transaction.CommitAsync(CheckpointWithMessage(stale.Run.Id, 1), keep: 3, Ct));
        }

        Assert.Empty(await ReadEffectsAsync(stale.Lease));
        Assert.Null((await Store.GetRecoveryDataAsync(stale.Run.Id, Ct)).Checkpoint);
    }

    [Fact]
    public async Task OtherRunsWrites_WhileAStageTransactionIsOpen_AreCommittedAndNotLost()
    {
        var (stage, other) = (await StartRunAsync(), await StartRunAsync());
        Task otherCheckpoint;
        await using (var transaction = await Transactional.BeginStageTransactionAsync(stage.Lease, Ct))
        {
            await WriteEffectAsync(transaction, "order 42 saved");
            otherCheckpoint = Store.SaveCheckpointAsync(other.Lease, CheckpointWithMessage(other.Run.Id, 1) with { Outbox = [] }, keep: 3, Ct);
            await transaction.CommitAsync(CheckpointWithMessage(stage.Run.Id, 1), keep: 3, Ct);
        }

        await otherCheckpoint.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, (await Store.GetRunAsync(other.Run.Id, Ct))!.CheckpointSequence);
        Assert.Equal(1, (await Store.GetRunAsync(stage.Run.Id, Ct))!.CheckpointSequence);
        Assert.Equal(["order 42 saved"], await ReadEffectsAsync(stage.Lease));
    }

    private async Task<ClaimedRun> StartRunAsync()
    {
        var input = "{\"order\":42}"u8.ToArray();
        var created = await Store.CreateRunAsync(
            new NewRun(RunId.New(), Flow, 1, Guid.NewGuid().ToString("N"), input, StoreRules.StateChecksum(input), "{}", new NewRunClaim("node-a", Lease)),
            Ct);
        return new ClaimedRun(created.Run, created.Lease!);
    }

    private static Checkpoint CheckpointWithMessage(RunId runId, long sequence)
    {
        var state = "{\"order\":42}"u8.ToArray();
        return new Checkpoint(sequence, FlowPath.Of(1), "order-received", "order saved", state, StoreRules.StateChecksum(state))
        {
            Outbox = [new OutboxMessage(StoreRules.OutboxMessageId(runId, sequence, 0), runId, sequence, 0, "NewOrder", "{\"order\":42}"u8.ToArray())],
        };
    }

    private async Task WriteEffectAsync(StageTransaction transaction, string effect)
    {
        await using var command = transaction.Transaction.Connection!.CreateCommand();
        command.Transaction = transaction.Transaction;
        command.CommandText = $"INSERT INTO {EffectsTable} (effect) VALUES (@effect)";
        var parameter = command.CreateParameter();
        parameter.ParameterName = "@effect";
        parameter.Value = effect;
        command.Parameters.Add(parameter);
        await command.ExecuteNonQueryAsync(Ct);
    }

    /// <summary>Reads the application table through a transaction of its own, rolled back.</summary>
    private async Task<List<string>> ReadEffectsAsync(RunLease lease)
    {
        await using var transaction = await Transactional.BeginStageTransactionAsync(lease, Ct);
        await using var command = transaction.Transaction.Connection!.CreateCommand();
        command.Transaction = transaction.Transaction;
        command.CommandText = $"SELECT effect FROM {EffectsTable} ORDER BY effect";
        var effects = new List<string>();
        await using DbDataReader reader = await command.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct))
        {
            effects.Add(reader.GetString(0));
        }

        return effects;
    }
}
