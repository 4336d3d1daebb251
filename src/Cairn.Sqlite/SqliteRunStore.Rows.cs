using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;

namespace Cairn.Sqlite;

public sealed partial class SqliteRunStore
{
    private static RunRecord? GetRun(SqliteConnection connection, SqliteTransaction? transaction, RunId runId)
    {
        using var command = Command(connection, transaction, $"SELECT {RunColumns} FROM runs WHERE run_id = $run_id");
        Bind(command, "$run_id", Key(runId));
        return ReadRuns(command) is [var run] ? run : null;
    }

    private static List<CheckpointSummary> GetCheckpoints(SqliteConnection connection, SqliteTransaction? transaction, RunId runId)
    {
        using var command = Command(connection, transaction,
            "SELECT sequence, position, recovery_point, status_message, checksum, created_at, length(state) FROM checkpoints " +
            "WHERE run_id = $run_id ORDER BY sequence DESC");
        Bind(command, "$run_id", Key(runId));
        return ReadRows(command, reader => new CheckpointSummary(
            reader.GetInt64(0),
            FlowPath.Parse(reader.GetString(1)),
            reader.GetString(2),
            reader.IsDBNull(3) ? null : reader.GetString(3),
            reader.GetString(4),
            Time(reader.GetInt64(5)),
            reader.GetInt32(6)));
    }

    /// <summary>Reads every row of a query, each through <paramref name="row"/>.</summary>
    private static List<T> ReadRows<T>(SqliteCommand command, Func<SqliteDataReader, T> row)
    {
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(row(reader));
        }

        return rows;
    }

    private static RunRecord? FindRun(SqliteConnection connection, SqliteTransaction? transaction, string flowName, string recoveryId)
    {
        using var command = Command(connection, transaction, $"SELECT {RunColumns} FROM runs WHERE flow_name = $flow_name AND recovery_id = $recovery_id");
        Bind(command, "$flow_name", flowName);
        Bind(command, "$recovery_id", recoveryId);
        return ReadRuns(command) is [var run] ? run : null;
    }

    private static List<RunRecord> ReadRuns(SqliteCommand command)
    {
        using var reader = command.ExecuteReader();
        var runs = new List<RunRecord>();
        while (reader.Read())
        {
            runs.Add(new RunRecord
            {
                Id = RunKey(reader.GetString(0)),
                FlowName = reader.GetString(1),
                FlowVersion = reader.GetInt32(2),
                RecoveryId = reader.GetString(3),
                Status = (RunStatus)reader.GetInt32(4),
                Attempt = reader.GetInt32(5),
                RetriesUsed = reader.GetInt32(6),
                CreatedAt = Time(reader.GetInt64(7)),
                UpdatedAt = Time(reader.GetInt64(8)),
                DueAt = reader.IsDBNull(9) ? null : Time(reader.GetInt64(9)),
                FinishedAt = reader.IsDBNull(10) ? null : Time(reader.GetInt64(10)),
                Owner = reader.IsDBNull(11) ? null : reader.GetString(11),
                LeaseEpoch = reader.GetInt64(12),
                LeaseExpiresAt = reader.IsDBNull(13) ? null : Time(reader.GetInt64(13)),
                Position = reader.GetString(14),
                LastRecoveryPoint = reader.IsDBNull(15) ? null : reader.GetString(15),
                StatusMessage = reader.IsDBNull(16) ? null : reader.GetString(16),
                LastError = reader.IsDBNull(17) ? null : reader.GetString(17),
                CheckpointSequence = reader.GetInt64(18),
                InputChecksum = reader.GetString(19),
                Settings = reader.GetString(20),
            });
        }

        return runs;
    }

    private void InsertEvent(SqliteTransaction transaction, RunId runId, DateTimeOffset time, RunEventKind kind, int attempt, string message, string? recoveryPoint = null)
    {
        var command = Cached(transaction, InsertEventSql);
        Bind(command, "$run_id", Key(runId));
        Bind(command, "$time", Ticks(time));
        Bind(command, "$kind", (int)kind);
        Bind(command, "$attempt", attempt);
        Bind(command, "$message", message);
        Bind(command, "$recovery_point", recoveryPoint);
        command.ExecuteNonQuery();
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }

    // Sets the command's parameter of that name (a cached command keeps its parameters), or adds it.
    private static SqliteParameter Bind(SqliteCommand command, string name, object? value)
    {
        var parameters = command.Parameters;
        var index = parameters.IndexOf(name);
        if (index < 0)
        {
            return parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        var parameter = parameters[index];
        parameter.Value = value ?? DBNull.Value;
        return parameter;
    }

    private static string Key(RunId runId) => runId.Value.ToString("N");

    private static RunId RunKey(string key) => new(Guid.ParseExact(key, "N"));

    private static long Ticks(DateTimeOffset time) => time.UtcTicks;

    private static DateTimeOffset Time(long ticks) => new(ticks, TimeSpan.Zero);
}
