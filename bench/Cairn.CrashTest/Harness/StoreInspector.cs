using System.Security.Cryptography;
using Cairn.Sqlite;
using Microsoft.Data.Sqlite;

namespace Cairn.CrashTest.Harness;

/// <summary>
/// Looks at the SQLite file while no worker runs (after each kill, and at the end): <c>PRAGMA integrity_check</c>, and
/// the SHA-256 of every stored checkpoint against its checksum column. Reads only.
/// </summary>
internal static class StoreInspector
{
    public static StoreInspection Inspect(string path, string when)
    {
        using var connection = OpenReadOnly(path);
        var violations = new List<Violation>();
        using (var integrity = connection.CreateCommand())
        {
            integrity.CommandText = "PRAGMA integrity_check";
            using var reader = integrity.ExecuteReader();
            var messages = new List<string>();
            while (reader.Read())
            {
                messages.Add(reader.GetString(0));
            }

            if (messages is not ["ok"])
            {
                violations.Add(new Violation(ViolationKind.IntegrityCheck, $"{when}: {string.Join("; ", messages.Take(10))}"));
            }
        }

        var verified = 0;
        using (var checkpoints = connection.CreateCommand())
        {
            checkpoints.CommandText =
                "SELECT c.run_id, r.recovery_id, c.sequence, c.recovery_point, c.checksum, c.state " +
                "FROM checkpoints c LEFT JOIN runs r ON r.run_id = c.run_id ORDER BY c.run_id, c.sequence";
            using var reader = checkpoints.ExecuteReader();
            while (reader.Read())
            {
                verified++;
                var state = reader.GetFieldValue<byte[]>(5);
                var actual = Convert.ToHexStringLower(SHA256.HashData(state));
                var stored = reader.GetString(4);
                if (actual != stored)
                {
                    violations.Add(new Violation(ViolationKind.ChecksumMismatch,
                        $"{when}: run {reader.GetString(0)} ({(reader.IsDBNull(1) ? "no run row" : reader.GetString(1))}) checkpoint {reader.GetInt64(2)} " +
                        $"at '{reader.GetString(3)}': {state.Length:N0} bytes hash to {actual[..16]}…, the stored checksum is {stored[..Math.Min(16, stored.Length)]}…"));
                }
            }
        }

        return new StoreInspection(verified, violations);
    }

    /// <summary>
    /// Opens the file for reading only, so that the next worker finds it exactly as the killed one left it (a read-write
    /// connection would checkpoint the WAL into the database when it closes). Should SQLite refuse to read a WAL left by a
    /// killed process without a writable connection, it falls back to one that is read-write but refuses writes.
    /// </summary>
    public static SqliteConnection OpenReadOnly(string path)
    {
        try
        {
            return Open(path, SqliteOpenMode.ReadOnly, "SELECT COUNT(*) FROM sqlite_master");
        }
        catch (SqliteException)
        {
            return Open(path, SqliteOpenMode.ReadWrite, "PRAGMA query_only = ON");
        }
    }

    public static SqliteConnection OpenReadWrite(string path) => Open(path, SqliteOpenMode.ReadWrite, "SELECT COUNT(*) FROM sqlite_master");

    private static SqliteConnection Open(string path, SqliteOpenMode mode, string firstStatement) => SqliteConnections.Open(
        new SqliteConnectionStringBuilder { DataSource = path, Mode = mode, Pooling = false, DefaultTimeout = 30 }.ToString(), firstStatement);
}
