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

        var verified = StoreRows.VerifyCheckpoints(connection, "", when, violations);
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
