using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Cairn.Sqlite;

public sealed partial class SqliteRunStore
{
    /// <inheritdoc />
    public override Task<IReadOnlyList<ClaimedRun>> ClaimDueRunsAsync(ClaimRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.MaxRuns <= 0 || request.FlowNames.Count == 0)
        {
            return Task.FromResult<IReadOnlyList<ClaimedRun>>([]);
        }

        return WriteAsync<IReadOnlyList<ClaimedRun>>((connection, transaction, now) =>
        {
            List<RunRecord> due;
            using (var select = Command(connection, transaction, ""))
            {
                var flowParameters = new List<string>(request.FlowNames.Count);
                foreach (var flowName in request.FlowNames)
                {
                    var name = string.Create(CultureInfo.InvariantCulture, $"$flow{flowParameters.Count}");
                    flowParameters.Add(name);
                    Bind(select, name, flowName);
                }

                // A range scan of the partial index runs_claim_order, oldest due first, that stops after $max_runs matches:
                // a claim costs the same with a queue of ten runs or a million. Without INDEXED BY, SQLite (lacking
                // statistics) prefers an index on status or flow_name and sorts every claimable run. A run without a due
                // time is claimable now and is ordered by its last change, which is never later than now. Equal due times
                // come in insertion order (rowid), as in the in-memory store.
                select.CommandText =
                    $"SELECT {RunColumns} FROM runs INDEXED BY runs_claim_order " +
                    "WHERE status IN (0, 2, 3, 8) AND COALESCE(due_at, updated_at) <= $now AND (due_at IS NULL OR due_at <= $now) " +
                    "AND ($resume_interrupted OR status <> 3) " +
                    $"AND flow_name IN ({string.Join(", ", flowParameters)}) " +
                    "ORDER BY COALESCE(due_at, updated_at) LIMIT $max_runs";
                Bind(select, "$now", Ticks(now));
                Bind(select, "$max_runs", request.MaxRuns);
                Bind(select, "$resume_interrupted", request.ResumeInterrupted);
                due = ReadRuns(select);
            }

            var claimed = new List<ClaimedRun>(due.Count);
            if (due.Count == 0)
            {
                return claimed;
            }

            var leaseExpiresAt = now + request.LeaseDuration;
            var update = Cached(transaction,
                "UPDATE runs SET status = 1, attempt = attempt + 1, owner = $owner, lease_epoch = lease_epoch + 1, " +
                "lease_expires_at = $lease_expires_at, due_at = NULL, updated_at = $now WHERE run_id = $run_id");
            Bind(update, "$owner", request.Owner);
            Bind(update, "$lease_expires_at", Ticks(leaseExpiresAt));
            Bind(update, "$now", Ticks(now));
            var runIdParameter = Bind(update, "$run_id", "");
            foreach (var run in due)
            {
                var message = StoreRules.StartedMessage(run, request.Owner);
                var started = StoreRules.Claimed(run, request.Owner, leaseExpiresAt, now);
                runIdParameter.Value = Key(run.Id);
                update.ExecuteNonQuery();
                InsertEvent(transaction, run.Id, now, RunEventKind.Started, started.Attempt, message, run.LastRecoveryPoint);
                claimed.Add(new ClaimedRun(started, new RunLease(run.Id, request.Owner, started.LeaseEpoch)));
            }

            return claimed;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public override Task<int> RenewLeasesAsync(string owner, TimeSpan leaseDuration, CancellationToken cancellationToken) =>
        WriteAsync((connection, transaction, now) =>
        {
            var command = Cached(transaction,
                "UPDATE runs SET lease_expires_at = $lease_expires_at WHERE status = 1 AND owner = $owner");
            Bind(command, "$lease_expires_at", Ticks(now + leaseDuration));
            Bind(command, "$owner", owner);
            return command.ExecuteNonQuery();
        }, cancellationToken);

    /// <inheritdoc />
    public override Task<int> InterruptAbandonedRunsAsync(string owner, bool exclusive, TimeSpan resumeAfter, CancellationToken cancellationToken) =>
        WriteAsync((connection, transaction, now) =>
        {
            var abandoned = new List<(RunId Id, string? Owner, int Attempt, string? LastRecoveryPoint)>();
            using (var select = Command(connection, transaction,
                "SELECT run_id, owner, attempt, last_recovery_point FROM runs WHERE status = 1 " +
                "AND ($exclusive OR lease_expires_at <= $now) ORDER BY created_at, run_id"))
            {
                Bind(select, "$now", Ticks(now));
                Bind(select, "$exclusive", exclusive);
                using var reader = select.ExecuteReader();
                while (reader.Read())
                {
                    abandoned.Add((RunKey(reader.GetString(0)), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetInt32(2), reader.IsDBNull(3) ? null : reader.GetString(3)));
                }
            }

            if (abandoned.Count == 0)
            {
                return 0;
            }

            using var update = Command(connection, transaction,
                "UPDATE runs SET status = 3, lease_expires_at = NULL, due_at = $due_at, updated_at = $now WHERE run_id = $run_id");
            Bind(update, "$due_at", Ticks(now + resumeAfter));
            Bind(update, "$now", Ticks(now));
            var runIdParameter = Bind(update, "$run_id", "");
            foreach (var run in abandoned)
            {
                runIdParameter.Value = Key(run.Id);
                update.ExecuteNonQuery();
                InsertEvent(transaction, run.Id, now, RunEventKind.Interrupted, run.Attempt,
                    StoreRules.InterruptedMessage(run.Owner), run.LastRecoveryPoint);
            }

            return abandoned.Count;
        }, cancellationToken);

    private int UpdateFenced(SqliteTransaction transaction, RunLease lease, string assignments, Action<SqliteCommand> bind)
    {
        var command = Cached(transaction, $"UPDATE runs SET {assignments} WHERE {FenceCondition} RETURNING attempt");
        Bind(command, "$run_id", Key(lease.RunId));
        Bind(command, "$epoch", lease.Epoch);
        bind(command);
        if (command.ExecuteScalar() is long attempt)
        {
            return (int)attempt;
        }

        Log.Sqlite.FencedWriteRefused(_logger, lease.RunId, lease.Epoch);
        throw new RunOwnershipLostException(lease); // Thrown inside the transaction, which then rolls back.
    }
}
