using Microsoft.Data.Sqlite;

namespace Cairn.Sqlite;

/// <summary>Opening a connection that is ready for use, or not open at all (the file is compiled into the crash test's store inspector too).</summary>
internal static class SqliteConnections
{
    /// <summary>Opens a connection and runs <paramref name="firstStatement"/> on it, if any; a connection that fails either is disposed.</summary>
    public static SqliteConnection Open(string connectionString, string? firstStatement)
    {
        var connection = new SqliteConnection(connectionString);
        try
        {
            connection.Open();
            if (firstStatement is not null)
            {
                using var command = connection.CreateCommand();
                command.CommandText = firstStatement;
                command.ExecuteNonQuery();
            }

            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }
}
