using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Cairn.Sqlite;

public sealed partial class SqliteRunStore
{
    /// <inheritdoc />
    /// <remarks>
    /// <para>
    /// The transaction is a <c>BEGIN IMMEDIATE</c> transaction on the store's single writer connection, and it holds the
    /// store's write lock from here until it is committed or disposed: the group commits of other writes (other runs'
    /// checkpoints, claims, lease renewals, operator changes) wait meanwhile, as SQLite makes every other writer wait, up
    /// to <see cref="SqliteStoreOptions.BusyTimeout"/>; after that they fail as busy. Keep a transactional stage short.
    /// Reads are not held up (WAL).
    /// </para>
    /// <para>
    /// Code that holds the transaction open must not wait for another write of this store (a checkpoint, a cancel, a claim)
    /// to complete before it commits or disposes it: that write waits for the transaction, which would wait for the write.
    /// A second stage transaction waits for the first to end. Dispose every stage transaction before the store.
    /// </para>
    /// </remarks>
    public async Task<StageTransaction> BeginStageTransactionAsync(RunLease lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            _writer ??= OpenConnection();
            return new SqliteStageTransaction(this, lease, _writer.BeginTransaction()); // BEGIN IMMEDIATE
        }
        catch (SqliteException ex)
        {
            CloseWriter();
            _writeLock.Release();
            throw new StoreUnavailableException($"The SQLite database '{_path}' cannot be used: {ex.Message}", ex);
        }
        catch
        {
            _writeLock.Release();
            throw;
        }
    }

    /// <summary>
    /// A stage's transaction on the writer connection, holding the write lock until it ends. It ends once: when
    /// <see cref="CommitAsync"/> commits or fails, or when it is disposed (rolled back); then the lock is released.
    /// </summary>
    private sealed class SqliteStageTransaction(SqliteRunStore store, RunLease lease, SqliteTransaction transaction) : StageTransaction
    {
        private int _ended;
        private bool _committed;
        private bool _databaseFailed;

        public override DbTransaction Transaction => transaction;

        public override Task CommitAsync(Checkpoint checkpoint, int keep, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(checkpoint);
            ArgumentOutOfRangeException.ThrowIfLessThan(keep, 1);
            if (Volatile.Read(ref _ended) != 0)
            {
                return Task.FromException(new InvalidOperationException("The stage transaction was already committed or rolled back."));
            }

            if (cancellationToken.IsCancellationRequested)
            {
                return Task.FromCanceled(cancellationToken); // Still open: disposing it rolls it back.
            }

            try
            {
                // The same statements as SaveCheckpointAsync, fenced: a lost lease throws before anything of the checkpoint
                // is written, and ending the transaction below rolls back the stage's writes with it.
                store.WriteCheckpoint(transaction, lease, checkpoint, keep, store._timeProvider.GetUtcNow());
                transaction.Commit();
                _committed = true;
                return Task.CompletedTask;
            }
            catch (Exception ex)
            {
                _databaseFailed = ex is SqliteException;
                return Task.FromException(ex);
            }
            finally
            {
                End();
            }
        }

        public override ValueTask DisposeAsync()
        {
            End();
            return ValueTask.CompletedTask;
        }

        private void End()
        {
            if (Interlocked.Exchange(ref _ended, 1) != 0)
            {
                return;
            }

            try
            {
                if (!_committed && !_databaseFailed)
                {
                    transaction.Rollback();
                }

                transaction.Dispose();
            }
            catch (SqliteException)
            {
                _databaseFailed = true;
            }
            finally
            {
                // As after a failed group commit: a writer whose database failed is closed, and the next write opens another.
                if (_databaseFailed)
                {
                    store.CloseWriter();
                }

                store._writeLock.Release();
            }
        }
    }
}
