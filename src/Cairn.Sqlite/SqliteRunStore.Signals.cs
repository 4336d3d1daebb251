namespace Cairn.Sqlite;

public sealed partial class SqliteRunStore : ISignalStore
{
    /// <inheritdoc />
    public Task<bool> SendSignalAsync(RunId runId, RunSignal signal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(signal);
        return WriteAsync((connection, transaction, now) =>
        {
            var run = GetRun(connection, transaction, runId) ?? throw new RunNotFoundException(runId);
            StoreRules.EnsureCanSignal(runId, run.Status);
            using (var insert = Command(connection, transaction,
                "INSERT INTO signals (run_id, signal_id, name, payload, sent_at) VALUES ($run_id, $signal_id, $name, $payload, $now) " +
                "ON CONFLICT (run_id, signal_id) DO NOTHING"))
            {
                Bind(insert, "$run_id", Key(runId));
                Bind(insert, "$signal_id", signal.Id);
                Bind(insert, "$name", signal.Name);
                Bind(insert, "$payload", Bytes(signal.Payload));
                Bind(insert, "$now", Ticks(now));
                if (insert.ExecuteNonQuery() == 0)
                {
                    return false;
                }
            }

            if (run.Status == RunStatus.Waiting)
            {
                UpdateRun(connection, transaction, runId, now, "due_at = $now, updated_at = $now");
            }

            InsertEvent(transaction, runId, now, RunEventKind.Signalled, run.Attempt, StoreRules.SignalledMessage(signal), run.LastRecoveryPoint);
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<RunSignal>> ListSignalsAsync(RunId runId, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<RunSignal>>(connection =>
        {
            using var command = Command(connection, null, "SELECT signal_id, name, payload, sent_at, taken_by FROM signals WHERE run_id = $run_id ORDER BY id");
            Bind(command, "$run_id", Key(runId));
            return ReadRows(command, reader => new RunSignal(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<byte[]>(2))
            {
                SentAt = Time(reader.GetInt64(3)),
                TakenBy = reader.IsDBNull(4) ? null : reader.GetInt64(4),
            });
        }, cancellationToken);

    // In a checkpoint's transaction: the signal it takes is marked taken by it.
    private void TakeSignal(Microsoft.Data.Sqlite.SqliteTransaction transaction, RunLease lease, Checkpoint checkpoint)
    {
        if (checkpoint.TakesSignal is not { } signalId)
        {
            return;
        }

        var take = Cached(transaction, "UPDATE signals SET taken_by = $sequence WHERE run_id = $run_id AND signal_id = $signal_id");
        Bind(take, "$sequence", checkpoint.Sequence);
        Bind(take, "$run_id", Key(lease.RunId));
        Bind(take, "$signal_id", signalId);
        take.ExecuteNonQuery();
    }
}
