using Microsoft.Data.Sqlite;

namespace Cairn.Sqlite;

public sealed partial class SqliteRunStore
{
    private const int SqliteBusy = 5; // SQLITE_BUSY

    private SqliteConnection? _writer;
    private readonly Dictionary<string, SqliteCommand> _writerCommands = new(StringComparer.Ordinal);

    private interface IPendingWrite : IGroupCommitWrite
    {
        void Execute(SqliteConnection connection, SqliteTransaction transaction, DateTimeOffset now);
    }

    /// <summary>
    /// Group commit: writes queue up and are committed together in one transaction (one fsync) by a single writer. Each
    /// write runs inside its own savepoint, so one that fails (a fenced write that lost its lease) is rolled back alone.
    /// A write's task completes only after its transaction committed: a run passes a recovery point once it is durable.
    /// </summary>
    private Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, DateTimeOffset, T> write, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }

        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var pending = new PendingWrite<T>(write);
        _writes.Enqueue(pending);
        return pending.Task;
    }

    /// <summary>Commits a batch of writes and completes or fails each of them; never throws.</summary>
    private async ValueTask Commit(List<IPendingWrite> batch)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            var disposed = new ObjectDisposedException(nameof(SqliteRunStore));
            batch.ForEach(write => write.Fail(disposed));
            return;
        }

        // The lock is free but for an open stage transaction (or a schema migration): wait for it, without holding a
        // thread, as SQLite waits for another process's write, and fail as busy after as long.
        bool entered;
        try
        {
            entered = await _writeLock.WaitAsync(_busyTimeout).ConfigureAwait(false);
        }
        catch (ObjectDisposedException ex)
        {
            batch.ForEach(write => write.Fail(ex));
            return;
        }

        if (!entered)
        {
            var busy = new SqliteException(
                $"The SQLite store's writer stayed busy longer than the busy timeout ({_busyTimeout}): a stage transaction is open " +
                "(or the schema is being migrated); the write was not committed.", SqliteBusy);
            batch.ForEach(write => write.Fail(busy));
            return;
        }

        try
        {
            _writer ??= OpenConnection();
            using var transaction = _writer.BeginTransaction(); // BEGIN IMMEDIATE: takes SQLite's write lock up front.

            // Read the clock inside the write lock so that stored times follow commit order.
            var now = _timeProvider.GetUtcNow();
            var committed = new List<IPendingWrite>(batch.Count);
            if (batch is [var only])
            {
                only.Execute(_writer, transaction, now);
                committed.Add(only);
            }
            else
            {
                // The savepoint statements are cached like the writes' own: SqliteTransaction.Save and Release would
                // prepare them again for every write.
                foreach (var write in batch)
                {
                    Cached(transaction, "SAVEPOINT w").ExecuteNonQuery();
                    try
                    {
                        write.Execute(_writer, transaction, now);
                        Cached(transaction, "RELEASE w").ExecuteNonQuery();
                        committed.Add(write);
                    }
                    catch (Exception ex)
                    {
                        // If the database itself failed, this rollback throws too and the whole batch fails below.
                        Cached(transaction, "ROLLBACK TO w").ExecuteNonQuery();
                        Cached(transaction, "RELEASE w").ExecuteNonQuery();
                        write.Fail(ex);
                    }
                }
            }

            transaction.Commit();
            _writes.Committed(committed);
        }
        catch (Exception ex)
        {
            // A write failed alone (batch of one) or the database failed (busy, disk full, I/O): nothing of the batch is
            // committed. Writes already failed keep their own error.
            batch.ForEach(write => write.Fail(ex));
            if (ex is SqliteException)
            {
                CloseWriter();
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>How many write transactions were committed. For tests.</summary>
    internal long CommittedBatches => _writes.CommittedBatches;

    /// <summary>How many writes wait for the writer. For tests.</summary>
    internal int QueuedWrites => _writes.Count;

    /// <summary>The lock the writer holds while it commits; a test holds it to make writes queue up.</summary>
    internal SemaphoreSlim WriteLock => _writeLock;

    /// <summary>
    /// A command on the writer connection, prepared once and reused by every later batch (preparing costs as much as
    /// running these statements), with its parameter objects: <see cref="Bind"/> sets their values again. Each value is
    /// unset here, so a parameter the next write forgets to bind fails the write instead of sending an old value. Only for
    /// writes, which run on the writer under the write lock.
    /// </summary>
    private SqliteCommand Cached(SqliteTransaction transaction, string sql)
    {
        if (!_writerCommands.TryGetValue(sql, out var command))
        {
            command = _writer!.CreateCommand();
            command.CommandText = sql;
            _writerCommands.Add(sql, command);
        }

        command.Transaction = transaction;
        foreach (SqliteParameter parameter in command.Parameters)
        {
            parameter.Value = null;
        }

        return command;
    }

    private void CloseWriter()
    {
        foreach (var command in _writerCommands.Values)
        {
            command.Dispose();
        }

        _writerCommands.Clear();
        _writer?.Dispose();
        _writer = null;
    }

    private sealed class PendingWrite<T>(Func<SqliteConnection, SqliteTransaction, DateTimeOffset, T> write) : GroupCommitWrite<T>, IPendingWrite
    {
        public void Execute(SqliteConnection connection, SqliteTransaction transaction, DateTimeOffset now) =>
            Result = write(connection, transaction, now);
    }
}
