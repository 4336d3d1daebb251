using Npgsql;

namespace Cairn.Postgres;

public sealed partial class PostgresRunStore
{
    private const string Savepoint = "SAVEPOINT w";
    private const string ReleaseSavepoint = "RELEASE SAVEPOINT w";

    // One permit per group commit that may be in flight (PostgresStoreOptions.GroupCommitWriters).
    private readonly SemaphoreSlim _writeLock;

    // The group writers' open connections between groups.
    private readonly System.Collections.Concurrent.ConcurrentBag<NpgsqlConnection> _writerConnections = [];

    private interface IPendingWrite : IGroupCommitWrite
    {
        /// <summary>The write's statement, with the batch's time when a test clock stands in for the database's.</summary>
        NpgsqlBatchCommand CreateCommand(DateTimeOffset? now);

        /// <summary>Reads the write's result set. A refused write (lost fence) fails here; database errors are thrown.</summary>
        ValueTask ReadAsync(NpgsqlDataReader reader);
    }

    /// <summary>
    /// Group commit: writes queue up and are sent together, one round trip and one transaction (one WAL flush) for the
    /// group, by up to PostgresStoreOptions.GroupCommitWriters writers at once. Each write runs in its own savepoint, so one that fails with a database error is
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
            _ = CommitAsync([pending], exclusive: false);
            return pending.Task;
        }

        _writes.Enqueue(pending);
        return pending.Task;
    }

    /// <summary>
    /// Commits a batch of writes and completes or fails each of them; <paramref name="exclusive"/>: as the one writer,
    /// under the write lock. Never throws.
    /// </summary>
    private async Task CommitAsync(List<IPendingWrite> batch, bool exclusive)
    {
        if (exclusive)
        {
            await _writeLock.WaitAsync().ConfigureAwait(false);
        }

        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

            // One time for the batch, so that stored times follow commit order as with the database's now().
            var now = _testClock?.Invoke().ToUniversalTime();
            var connection = exclusive && _writerConnections.TryTake(out var kept) ? kept : await _dataSource.OpenConnectionAsync().ConfigureAwait(false);
            var keep = false;
            try
            {
                if (batch is [var only])
                {
                    await ExecuteAloneAsync(connection, only, now).ConfigureAwait(false);
                }
                else
                {
                    await ExecuteGroupAsync(connection, batch, now).ConfigureAwait(false);
                }

                keep = exclusive;
            }
            finally
            {
                await KeepOrCloseAsync(connection, keep).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            // The connection or the commit failed: nothing of the batch is committed (or, if the connection broke during
            // COMMIT, nobody can tell; the runs' next claims sort it out). Writes already failed keep their own error.
            var error = ex is NpgsqlException npgsql && IsUnavailable(npgsql) ? Unavailable(npgsql) : ex;
            batch.ForEach(write => write.Fail(error));
        }
        finally
        {
            if (exclusive)
            {
                _writeLock.Release();
            }
        }
    }

    /// <summary>
    /// Keeps a group writer's connection open for its next group — no pool rent and no session reset per group; nothing
    /// but the store's own statements runs on it — or closes it after a failure or once the store is disposed.
    /// </summary>
    private async ValueTask KeepOrCloseAsync(NpgsqlConnection connection, bool keep)
    {
        if (!keep || connection.FullState != System.Data.ConnectionState.Open || Volatile.Read(ref _disposed) != 0)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            return;
        }

        _writerConnections.Add(connection);
        if (Volatile.Read(ref _disposed) != 0)
        {
            CloseWriterConnections(); // The store was disposed meanwhile: it may have emptied the bag already.
        }
    }

    /// <summary>Closes the connections kept for the group writers (the store is disposed, or the database was lost).</summary>
    private void CloseWriterConnections()
    {
        while (_writerConnections.TryTake(out var connection))
        {
            connection.Dispose();
        }
    }

    // One write, one statement, in the implicit transaction of its own round trip.
    private async Task ExecuteAloneAsync(NpgsqlConnection connection, IPendingWrite write, DateTimeOffset? now)
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

        _writes.Committed(write);
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
                _writes.Committed(writes);
                return;
            }
            catch (PostgresException ex) when (!IsUnavailable(ex))
            {
                Log.Postgres.GroupRetriedWithSavepoints(_logger, writes.Count, ex.SqlState);
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
                Log.Postgres.GroupWriteFailed(_logger, writes.Count, ex.SqlState);
                writes[current].Fail(ex);
                next = current + 1;
                recovering = true;
                continue;
            }

            _writes.Committed(writes);
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
        CloseWriterConnections(); // Likely dead too: the next group opens a fresh one.

        Log.Postgres.DatabaseUnreachable(_logger, _database, exception);
        var what = exception is PostgresException ? "cannot be used" : "cannot be reached";
        return new StoreUnavailableException($"{Capitalized(_database)} {what}: {exception.Message}", exception);
    }

    /// <summary>How many write transactions were committed. For tests.</summary>
    internal long CommittedBatches => _writes.CommittedBatches;

    /// <summary>How many group writers' connections are kept open between groups. For tests.</summary>
    internal int KeptWriterConnections => _writerConnections.Count;

    /// <summary>How many writes wait for the writer. For tests.</summary>
    internal int QueuedWrites => _writes.Count;

    /// <summary>The permits the writers hold while they commit a batch; a test holds them all to make writes queue up.</summary>
    internal SemaphoreSlim WriteLock => _writeLock;

    private sealed class PendingWrite<T>(string sql, Action<NpgsqlParameterCollection> bind, Func<NpgsqlDataReader, ValueTask<T>> read)
        : GroupCommitWrite<T>, IPendingWrite
    {
        public NpgsqlBatchCommand CreateCommand(DateTimeOffset? now)
        {
            var positional = PositionalSql.Of(sql);
            var command = new NpgsqlBatchCommand(positional.Sql);
            bind(command.Parameters);
            if (now is { } time)
            {
                command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", time));
            }

            positional.Order(command.Parameters);
            return command;
        }

        public async ValueTask ReadAsync(NpgsqlDataReader reader)
        {
            try
            {
                Result = await read(reader).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not NpgsqlException)
            {
                Fail(ex);
            }
        }
    }
}
