using Cairn.Storage;
using Npgsql;

namespace Cairn.Postgres;

public sealed partial class PostgresRunStore
{
    private const string Savepoint = "SAVEPOINT w";
    private const string ReleaseSavepoint = "RELEASE SAVEPOINT w";

    private readonly Lock _queueLock = new();
    private readonly Queue<IPendingWrite> _queue = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private bool _draining;
    private long _committedBatches;

    private interface IPendingWrite
    {
        /// <summary>The write's statement, with the batch's time when a test clock stands in for the database's.</summary>
        NpgsqlBatchCommand CreateCommand(DateTimeOffset? now);

        /// <summary>Reads the write's result set. A refused write (lost fence) fails here; database errors are thrown.</summary>
        ValueTask ReadAsync(NpgsqlDataReader reader);

        void Complete();

        void Fail(Exception error);
    }

    /// <summary>
    /// Group commit: writes queue up and are sent together, one round trip and one transaction (one WAL flush) for the
    /// group, by one writer at a time. Each write runs in its own savepoint, so one that fails with a database error is
    /// rolled back alone and the others are sent again after it; a fenced write that lost its lease changes nothing and
    /// raises no error at all. A write's task completes only after its transaction committed: a run passes a recovery
    /// point once its checkpoint is durable.
    /// </summary>
    private Task<T> WriteAsync<T>(
        string sql, Action<NpgsqlParameterCollection> bind, Func<NpgsqlDataReader, ValueTask<T>> read, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }

        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var pending = new PendingWrite<T>(sql, bind, read);
        if (_maxGroupCommitSize == 1)
        {
            // Grouping off: every write commits alone on a connection of its own, concurrently with the others.
            _ = CommitAsync([pending]);
            return pending.Task;
        }

        bool lead;
        lock (_queueLock)
        {
            _queue.Enqueue(pending);
            lead = !_draining;
            _draining = true;
        }

        if (lead)
        {
            // Runs on the caller's thread up to the first network wait: a lone write pays no thread hop.
            _ = DrainAsync();
        }

        return pending.Task;
    }

    private async Task DrainAsync()
    {
        while (TakeBatch() is { } batch)
        {
            await _writeLock.WaitAsync().ConfigureAwait(false);
            try
            {
                await CommitAsync(batch).ConfigureAwait(false);
            }
            finally
            {
                _writeLock.Release();
            }
        }
    }

    /// <summary>The queued writes, up to the batch size; null once the queue is empty (and the writer released).</summary>
    private List<IPendingWrite>? TakeBatch()
    {
        lock (_queueLock)
        {
            if (_queue.Count == 0)
            {
                _draining = false;
                return null;
            }

            var batch = new List<IPendingWrite>(Math.Min(_queue.Count, _maxGroupCommitSize));
            while (batch.Count < _maxGroupCommitSize && _queue.TryDequeue(out var next))
            {
                batch.Add(next);
            }

            return batch;
        }
    }

    /// <summary>Commits a batch of writes and completes or fails each of them. Never throws.</summary>
    private async Task CommitAsync(List<IPendingWrite> batch)
    {
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

            // One time for the batch, so that stored times follow commit order as with the database's now().
            var now = _testClock?.Invoke().ToUniversalTime();
            var connection = await _dataSource.OpenConnectionAsync().ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                if (batch is [var only])
                {
                    await ExecuteAloneAsync(connection, only, now).ConfigureAwait(false);
                }
                else
                {
                    await ExecuteGroupAsync(connection, batch, now).ConfigureAwait(false);
                }
            }

            Interlocked.Increment(ref _committedBatches);
        }
        catch (Exception ex)
        {
            // The connection or the commit failed: nothing of the batch is committed (or, if the connection broke during
            // COMMIT, nobody can tell; the runs' next claims sort it out). Writes already failed keep their own error.
            var error = ex is NpgsqlException npgsql && IsUnavailable(npgsql) ? Unavailable(npgsql) : ex;
            batch.ForEach(write => write.Fail(error));
        }
    }

    // One write, one statement, in the implicit transaction of its own round trip.
    private static async Task ExecuteAloneAsync(NpgsqlConnection connection, IPendingWrite write, DateTimeOffset? now)
    {
        using var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(write.CreateCommand(now));
        var reader = await batch.ExecuteReaderAsync().ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            await write.ReadAsync(reader).ConfigureAwait(false);

            // Reading to the end reads the commit's outcome.
            while (await reader.NextResultAsync().ConfigureAwait(false))
            {
            }
        }

        write.Complete();
    }

    // BEGIN; write 1; write 2; …; COMMIT — in one round trip. Writes rarely fail (a lost fence is not an error), so the
    // group is first sent without savepoints, which would cost the server a subtransaction per write; if one write
    // fails, the transaction is rolled back and the group is sent again with a savepoint around each write.
    private async Task ExecuteGroupAsync(NpgsqlConnection connection, List<IPendingWrite> writes, DateTimeOffset? now)
    {
        using (var batch = new NpgsqlBatch(connection))
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN"));
            foreach (var write in writes)
            {
                batch.BatchCommands.Add(write.CreateCommand(now));
            }

            batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
            try
            {
                await ExecuteAndReadAsync(batch, writes, 0).ConfigureAwait(false);
                writes.ForEach(write => write.Complete());
                return;
            }
            catch (PostgresException ex) when (!IsUnavailable(ex))
            {
                Log.GroupRetriedWithSavepoints(_logger, writes.Count, ex.SqlState);
            }
        }

        using (var rollback = new NpgsqlCommand("ROLLBACK", connection))
        {
            await rollback.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        await ExecuteWithSavepointsAsync(connection, writes, now).ConfigureAwait(false);
    }

    // Reads the result set of each write from 'first' on; throws the error of the first write that failed.
    private static async Task ExecuteAndReadAsync(NpgsqlBatch batch, List<IPendingWrite> writes, int first)
    {
        var reader = await batch.ExecuteReaderAsync().ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            // Statements without rows (BEGIN, SAVEPOINT, RELEASE, COMMIT) have no result set: each write has one.
            for (var current = first; current < writes.Count; current++)
            {
                if (current > first && !await reader.NextResultAsync().ConfigureAwait(false))
                {
                    throw new InvalidOperationException($"The group commit read {current} results of {writes.Count} writes.");
                }

                await writes[current].ReadAsync(reader).ConfigureAwait(false);
            }

            while (await reader.NextResultAsync().ConfigureAwait(false))
            {
            }
        }
    }

    // BEGIN; SAVEPOINT w; write 1; RELEASE w; SAVEPOINT w; write 2; …; COMMIT — in one round trip. When write i fails,
    // PostgreSQL skips the rest of the round trip; the next one rolls back to write i's savepoint and sends the writes
    // after it again, then COMMIT.
    private async Task ExecuteWithSavepointsAsync(NpgsqlConnection connection, List<IPendingWrite> writes, DateTimeOffset? now)
    {
        var next = 0;
        var recovering = false;
        while (true)
        {
            using var batch = new NpgsqlBatch(connection);
            if (recovering)
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand("ROLLBACK TO SAVEPOINT w"));
                batch.BatchCommands.Add(new NpgsqlBatchCommand(ReleaseSavepoint));
            }
            else
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN"));
            }

            for (var i = next; i < writes.Count; i++)
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand(Savepoint));
                batch.BatchCommands.Add(writes[i].CreateCommand(now));
                batch.BatchCommands.Add(new NpgsqlBatchCommand(ReleaseSavepoint));
            }

            batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
            var current = next;
            try
            {
                var reader = await batch.ExecuteReaderAsync().ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    // Statements without rows (BEGIN, SAVEPOINT, RELEASE, COMMIT) have no result set: each write has one.
                    for (; current < writes.Count; current++)
                    {
                        if (current > next && !await reader.NextResultAsync().ConfigureAwait(false))
                        {
                            throw new InvalidOperationException($"The group commit read {current} results of {writes.Count} writes.");
                        }

                        await writes[current].ReadAsync(reader).ConfigureAwait(false);
                    }

                    while (await reader.NextResultAsync().ConfigureAwait(false))
                    {
                    }
                }
            }
            catch (PostgresException ex) when (current < writes.Count && !IsUnavailable(ex))
            {
                // Write 'current' failed (a constraint, a deadlock, a bad value): it fails alone.
                Log.GroupWriteFailed(_logger, writes.Count, ex.SqlState);
                writes[current].Fail(ex);
                next = current + 1;
                recovering = true;
                continue;
            }

            writes.ForEach(write => write.Complete());
            return;
        }
    }

    /// <summary>Whether an error means the database cannot be reached or used at all, rather than a failed statement.</summary>
    private static bool IsUnavailable(NpgsqlException exception) => exception switch
    {
        PostgresException error => error.SqlState.StartsWith("08", StringComparison.Ordinal) // connection exception
            || error.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow
                or PostgresErrorCodes.TooManyConnections or PostgresErrorCodes.InvalidCatalogName
                or PostgresErrorCodes.InvalidAuthorizationSpecification or PostgresErrorCodes.InvalidPassword,
        _ => true, // Not from the server: it cannot be reached, the connection broke, or it did not answer in time.
    };

    /// <summary>
    /// The error for a database that cannot be reached or used. Also drops the pool's idle connections, which are likely
    /// dead too, so that the next call opens a fresh one once the database is back.
    /// </summary>
    private StoreUnavailableException Unavailable(NpgsqlException exception)
    {
        _dataSource.Clear();
        Log.DatabaseUnreachable(_logger, _database, exception);
        var what = exception is PostgresException ? "cannot be used" : "cannot be reached";
        return new StoreUnavailableException($"{Capitalized(_database)} {what}: {exception.Message}", exception);
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

    /// <summary>The lock the writer holds while it commits a batch; a test holds it to make writes queue up.</summary>
    internal SemaphoreSlim WriteLock => _writeLock;

    private sealed class PendingWrite<T>(string sql, Action<NpgsqlParameterCollection> bind, Func<NpgsqlDataReader, ValueTask<T>> read)
        : IPendingWrite
    {
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T _result = default!;

        public Task<T> Task => _completion.Task;

        public NpgsqlBatchCommand CreateCommand(DateTimeOffset? now)
        {
            var command = new NpgsqlBatchCommand(sql);
            bind(command.Parameters);
            if (now is { } time)
            {
                command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", time));
            }

            return command;
        }

        public async ValueTask ReadAsync(NpgsqlDataReader reader)
        {
            try
            {
                _result = await read(reader).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not NpgsqlException)
            {
                Fail(ex);
            }
        }

        public void Complete() => _completion.TrySetResult(_result);

        public void Fail(Exception error) => _completion.TrySetException(error);
    }
}
