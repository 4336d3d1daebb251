using Microsoft.Data.Sqlite;

namespace Cairn.CrashTest.Harness;

/// <summary>
/// The deliberately broken mode (<c>--broken</c>): after a kill, makes the store forget the newest checkpoint of an
/// unfinished run, as a store that lost a commit would, and sets the run back to its start. The run then executes
/// stages again that lay before a committed recovery point; the invariant checker must see it. Lives in the harness
/// only, never in the library.
/// </summary>
internal static class LostCommitSabotage
{
    /// <summary>Sabotages one unfinished run with a checkpoint, chosen at random; returns what was done, or null when no run has one.</summary>
    public static string? Apply(string path, Random random)
    {
        using var connection = StoreInspector.OpenReadWrite(path);
        using var transaction = connection.BeginTransaction();
        var candidates = new List<(string RunId, string RecoveryId, string Point, long Sequence)>();
        using (var select = Command(connection, transaction,
            "SELECT r.run_id, r.recovery_id, c.recovery_point, c.sequence FROM runs r JOIN checkpoints c ON c.run_id = r.run_id " +
            "WHERE r.status NOT IN (4, 5, 6) ORDER BY r.run_id, c.sequence DESC"))
        {
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                if (candidates.Count == 0 || candidates[^1].RunId != reader.GetString(0))
                {
                    candidates.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3)));
                }
            }
        }

        if (candidates.Count == 0)
        {
            return null;
        }

        var victim = candidates[random.Next(candidates.Count)];
        using (var forget = Command(connection, transaction,
            "DELETE FROM checkpoints WHERE run_id = $run_id; " +
            "UPDATE runs SET position = '', last_recovery_point = NULL, status_message = NULL, checkpoint_sequence = 0 WHERE run_id = $run_id"))
        {
            forget.Parameters.AddWithValue("$run_id", victim.RunId);
            forget.ExecuteNonQuery();
        }

        transaction.Commit();
        return $"forgot checkpoint {victim.Sequence} ('{victim.Point}') of {victim.RecoveryId}";
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }
}
