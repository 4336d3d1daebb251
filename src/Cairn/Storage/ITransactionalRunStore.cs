using System.Data.Common;

namespace Cairn.Storage;

/// <summary>
/// A store whose own database a transactional stage writes to: the stage's writes and the checkpoint of the recovery
/// point after it commit in one transaction, fenced like every write of a running run.
/// </summary>
public interface ITransactionalRunStore
{
    /// <summary>
    /// Opens a transaction on the store's database for a stage of the run <paramref name="lease"/> holds. Nothing is
    /// fenced yet: the lease is checked when the transaction commits.
    /// </summary>
    /// <exception cref="StoreUnavailableException">The database cannot be reached.</exception>
    Task<StageTransaction> BeginStageTransactionAsync(RunLease lease, CancellationToken cancellationToken);
}

/// <summary>
/// An open transaction on a store's database, given to a transactional stage, that commits with a checkpoint. Disposing
/// it without <see cref="CommitAsync"/> rolls it back.
/// </summary>
public abstract class StageTransaction : IAsyncDisposable
{
    /// <summary>The transaction; its <see cref="DbTransaction.Connection"/> is the store's open connection.</summary>
    public abstract DbTransaction Transaction { get; }

    /// <summary>
    /// Commits the stage's writes together with <paramref name="checkpoint"/>, as <see cref="RunStore.SaveCheckpointAsync"/>
    /// would save it (its outbox messages included), fenced by the lease the transaction was opened for: when the lease no
    /// longer holds, everything is rolled back.
    /// </summary>
    /// <exception cref="RunOwnershipLostException">The lease no longer holds; nothing was committed.</exception>
    public abstract Task CommitAsync(Checkpoint checkpoint, int keep, CancellationToken cancellationToken);

    /// <summary>Rolls back what was not committed and releases the connection.</summary>
    public abstract ValueTask DisposeAsync();

    /// <summary>
    /// What to raise instead of <paramref name="error"/>, which the stage threw, when it means that this transaction's
    /// connection to the store's database was lost under the stage (dropped, terminated, the server restarted) rather
    /// than that the stage failed: the engine then tries the attempt again without using up one of the run's retries, as
    /// for any other store failure. Null when the stage failed. Default: null.
    /// </summary>
    /// <param name="error">What the stage threw.</param>
    public virtual StoreUnavailableException? LostConnection(Exception error) => null;
}
