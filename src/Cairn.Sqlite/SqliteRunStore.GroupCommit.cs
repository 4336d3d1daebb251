using Microsoft.Data.Sqlite;

namespace Cairn.Sqlite;

public sealed partial class SqliteRunStore
{
    private readonly Lock _queueLock = new();
    private readonly Queue<IPendingWrite> _queue = new();
    private bool _draining;
    private SqliteConnection? _writer;
    private readonly Dictionary<string, SqliteCommand> _writerCommands = new(StringComparer.Ordinal);
    private long _committedBatches;

    private interface IPendingWrite
    {
        void Execute(SqliteConnection connection, SqliteTransaction transaction, DateTimeOffset now);

        void Complete();

        void Fail(Exception error);
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
        bool lead;
        lock (_queueLock)
        {
            _queue.Enqueue(pending);
            lead = !_draining;
            _draining = true;
        }

        if (lead)
        {
            // A writer that finds the store idle commits at once on its own thread: a lone run pays no thread hop.
            CommitNextBatch();
            ContinueDraining();
        }

        return pending.Task;
    }

    private void ContinueDraining()
    {
        lock (_queueLock)
        {
            if (_queue.Count == 0)
            {
                _draining = false;
                return;
            }
        }

        // Writes that queued up meanwhile are committed on the thread pool, so the leader's caller is not held up by them.
        ThreadPool.UnsafeQueueUserWorkItem(
            static store =>
            {
                while (store.CommitNextBatch())
                {
                }
            },
            this,
            preferLocal: false);
    }

    /// <summary>Commits the queued writes, up to the batch size; false once the queue is empty (and the writer released).</summary>
    private bool CommitNextBatch()
    {
        List<IPendingWrite> batch;
        lock (_queueLock)
        {
            if (_queue.Count == 0)
            {
                _draining = false;
                return false;
            }

            batch = new List<IPendingWrite>(Math.Min(_queue.Count, _maxGroupCommitSize));
            while (batch.Count < _maxGroupCommitSize && _queue.TryDequeue(out var next))
            {
                batch.Add(next);
            }
        }

        Commit(batch);
        return true;
    }

    private void Commit(List<IPendingWrite> batch)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            var disposed = new ObjectDisposedException(nameof(SqliteRunStore));
            batch.ForEach(write => write.Fail(disposed));
            return;
        }

        _writeLock.Wait();
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
                foreach (var write in batch)
                {
                    transaction.Save("w");
                    try
                    {
                        write.Execute(_writer, transaction, now);
                        transaction.Release("w");
                        committed.Add(write);
                    }
                    catch (Exception ex)
                    {
                        // If the database itself failed, this rollback throws too and the whole batch fails below.
                        transaction.Rollback("w");
                        transaction.Release("w");
                        write.Fail(ex);
                    }
                }
            }

            transaction.Commit();
            Interlocked.Increment(ref _committedBatches);
            committed.ForEach(write => write.Complete());
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
    internal long CommittedBatches => Interlocked.Read(ref _committedBatches);

    /// <summary>How many writes wait for the writer. For tests.</summary>
    internal int QueuedWrites
    {
        get
        {
            lock (_queueLock)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>The lock the writer holds while it commits; a test holds it to make writes queue up.</summary>
    internal SemaphoreSlim WriteLock => _writeLock;

    /// <summary>
    /// A command on the writer connection, prepared once and reused by every later batch (preparing costs as much as
    /// running these statements). Only for writes, which run on the writer under the write lock.
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
        command.Parameters.Clear();
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

    private sealed class PendingWrite<T>(Func<SqliteConnection, SqliteTransaction, DateTimeOffset, T> write) : IPendingWrite
    {
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T _result = default!;

        public Task<T> Task => _completion.Task;

        public void Execute(SqliteConnection connection, SqliteTransaction transaction, DateTimeOffset now) =>
            _result = write(connection, transaction, now);

        public void Complete() => _completion.TrySetResult(_result);

        public void Fail(Exception error) => _completion.TrySetException(error);
    }
}
