using System.Data.Common;
using System.Text.RegularExpressions;

namespace Cairn.CrashTest.Harness;

/// <summary>
/// Reads what the checkers look at — runs with their results, events, checkpoints and their checksums — from a SQLite
/// file or a PostgreSQL schema: the same SQL on both, the tables named after <c>tables</c> (<c>""</c> for SQLite,
/// <c>"cairn."</c> for the PostgreSQL schema). Reads only.
/// </summary>
internal static partial class StoreRows
{
    public static Dictionary<Guid, StoredRun> ReadRuns(DbConnection connection, string tables)
    {
        using var command = connection.CreateCommand();
        command.CommandText =
            "SELECT r.run_id, r.flow_name, r.recovery_id, r.status, r.attempt, r.last_error, d.result " +
            $"FROM {tables}runs r LEFT JOIN {tables}run_data d ON d.run_id = r.run_id";
        using var reader = command.ExecuteReader();
        var runs = new Dictionary<Guid, StoredRun>();
        while (reader.Read())
        {
            var id = RunIdOf(reader, 0);
            runs[id] = new StoredRun(
                id,
                reader.GetString(1),
                reader.GetString(2),
                (RunStatus)reader.GetInt32(3),
                reader.GetInt32(4),
                reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetFieldValue<byte[]>(6));
        }

        return runs;
    }

    /// <summary>The events of the given kinds (every kind when none is given), each run's in the order the store wrote them.</summary>
    public static List<StoredEvent> ReadEvents(DbConnection connection, string tables, params RunEventKind[] kinds)
    {
        using var command = connection.CreateCommand();
        var filter = kinds.Length == 0 ? "" : $" WHERE kind IN ({string.Join(", ", kinds.Select(k => (int)k))})";
        command.CommandText = $"SELECT run_id, id, kind, attempt, message, recovery_point FROM {tables}events{filter} ORDER BY id";
        using var reader = command.ExecuteReader();
        var events = new List<StoredEvent>();
        while (reader.Read())
        {
            var message = reader.GetString(4);
            var kind = reader.GetInt32(2);
            var point = kind != (int)RunEventKind.RecoveryPointPassed ? null
                : !reader.IsDBNull(5) ? reader.GetString(5)
                : PassedMessage().Match(message) is { Success: true } match ? match.Groups[1].Value : null;
            events.Add(new StoredEvent(RunIdOf(reader, 0), reader.GetInt64(1), kind, reader.GetInt32(3), message, point));
        }

        return events;
    }

    /// <summary>The SHA-256 of every stored checkpoint against its checksum column; each mismatch is a violation.</summary>
    /// <returns>How many checkpoints were verified.</returns>
    public static int VerifyCheckpoints(DbConnection connection, string tables, string when, List<Violation> violations)
    {
        using var command = connection.CreateCommand();
        command.CommandText =
            "SELECT c.run_id, r.recovery_id, c.sequence, c.recovery_point, c.checksum, c.state " +
            $"FROM {tables}checkpoints c LEFT JOIN {tables}runs r ON r.run_id = c.run_id ORDER BY c.run_id, c.sequence";
        using var reader = command.ExecuteReader();
        var verified = 0;
        while (reader.Read())
        {
            verified++;
            var state = reader.GetFieldValue<byte[]>(5);
            var actual = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(state));
            var stored = reader.GetString(4);
            if (actual != stored)
            {
                violations.Add(new Violation(ViolationKind.ChecksumMismatch,
                    $"{when}: run {RunIdOf(reader, 0):N} ({(reader.IsDBNull(1) ? "no run row" : reader.GetString(1))}) checkpoint {reader.GetInt64(2)} " +
                    $"at '{reader.GetString(3)}': {state.Length:N0} bytes hash to {actual[..16]}…, the stored checksum is {stored[..Math.Min(16, stored.Length)]}…"));
            }
        }

        return verified;
    }

    // SQLite keeps run IDs as text ("N" format), PostgreSQL as uuid.
    private static Guid RunIdOf(DbDataReader reader, int ordinal) =>
        reader.GetValue(ordinal) is Guid id ? id : Guid.ParseExact(reader.GetString(ordinal), "N");

    // Rows written before migration 2 have no recovery_point: their point is only in the store's event text for a
    // committed checkpoint, "recovery point 'NAME' passed[: status message]".
    [GeneratedRegex("^recovery point '([^']+)' passed")]
    private static partial Regex PassedMessage();
}
