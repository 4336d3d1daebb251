using System.Data;
using System.Data.Common;
using Npgsql;

namespace Cairn.Postgres;

public sealed partial class PostgresRunStore
{
    /// <inheritdoc />
    /// <remarks>
    /// The transaction (READ COMMITTED) is on a connection of its own from the store's data source, outside group
    /// commit; the stage may write to any schema of the database. The run's row is not locked while the stage runs, so
    /// lease renewals and operator actions go on; the commit checks the lease with the same fenced statement as
    /// <see cref="SaveCheckpointAsync"/>, and rolls everything back when it no longer holds.
    /// </remarks>
    public async Task<StageTransaction> BeginStageTransactionAsync(RunLease lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        NpgsqlConnection? connection = null;
        try
        {
            connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken).ConfigureAwait(false);
            return new PostgresStageTransaction(this, lease, connection, transaction);
        }
        catch (Exception ex)
        {
            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }

            if (ex is NpgsqlException npgsql && IsUnavailable(npgsql))
            {
                throw Unavailable(npgsql);
            }

            throw;
        }
    }

    private sealed class PostgresStageTransaction(
        PostgresRunStore store, RunLease lease, NpgsqlConnection connection, NpgsqlTransaction transaction) : StageTransaction
    {
        private bool _completed;
        private int _disposed;

        public override DbTransaction Transaction => transaction;

        public override async Task CommitAsync(Checkpoint checkpoint, int keep, CancellationToken cancellationToken)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            if (_completed)
            {
                throw new InvalidOperationException("The stage transaction was already committed or rolled back.");
            }

            var (sql, bind) = store.CheckpointWrite(lease, checkpoint, keep);
            try
            {
                bool fenced;
                using (var command = new NpgsqlCommand(sql, connection, transaction))
                {
                    bind(command.Parameters);
                    if (store._testClock is { } clock)
                    {
                        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", clock().ToUniversalTime()));
                    }

                    var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    await using (reader.ConfigureAwait(false))
                    {
                        fenced = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                    }
                }

                if (!fenced)
                {
                    // The lease no longer holds: the statement changed nothing; the stage's writes go too.
                    _completed = true;
                    await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                    Log.Postgres.FencedWriteRefused(store._logger, lease.RunId, lease.Epoch);
                    throw new RunOwnershipLostException(lease);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                _completed = true;
            }
            catch (NpgsqlException ex) when (IsUnavailable(ex))
            {
                throw store.Unavailable(ex);
            }
        }

        /// <remarks>
        /// Only when the connection is no longer open: an error the server reports on a live connection (a constraint, a
        /// timeout it cancelled) is the stage's own.
        /// </remarks>
        public override StoreUnavailableException? LostConnection(Exception error)
        {
            if (connection.FullState == ConnectionState.Open)
            {
                return null;
            }

            for (var cause = error; cause is not null; cause = cause.InnerException)
            {
                if (cause is NpgsqlException npgsql && IsUnavailable(npgsql))
                {
                    return store.Unavailable(npgsql);
                }
            }

            return null;
        }

        public override async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            try
            {
                if (!_completed && connection.State == ConnectionState.Open)
                {
                    await transaction.RollbackAsync().ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or IOException or TimeoutException)
            {
                // A broken connection is not given back to the pool; its transaction died with it.
            }
            finally
            {
                await transaction.DisposeAsync().ConfigureAwait(false);
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
