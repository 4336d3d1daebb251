using System.Data.Common;

namespace Cairn.CrashTest.Chaos;

/// <summary>
/// The application table of the chaos soak, in the store's database: a row per effect a transactional stage (or
/// compensation) commits. No unique constraint on purpose: an effect committed twice shows as two rows.
/// </summary>
internal static class ChaosEffects
{
    public const string CreateSql =
        "CREATE SCHEMA IF NOT EXISTS chaos; " +
        "CREATE TABLE IF NOT EXISTS chaos.effects (run_id uuid NOT NULL, effect text NOT NULL, attempt integer NOT NULL, written_at timestamptz NOT NULL DEFAULT now())";

    public static async Task WriteAsync(DbTransaction transaction, RunId run, string effect, int attempt, CancellationToken cancellationToken)
    {
        await using var command = transaction.Connection!.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO chaos.effects (run_id, effect, attempt) VALUES (@run, @effect, @attempt)";
        Add(command, "run", run.Value);
        Add(command, "effect", effect);
        Add(command, "attempt", attempt);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>How many rows each run has of each effect.</summary>
    public static Dictionary<(Guid Run, string Effect), int> Count(DbConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT run_id, effect, count(*) FROM chaos.effects GROUP BY run_id, effect";
        using var reader = command.ExecuteReader();
        var counts = new Dictionary<(Guid, string), int>();
        while (reader.Read())
        {
            counts[(reader.GetGuid(0), reader.GetString(1))] = Convert.ToInt32(reader.GetInt64(2));
        }

        return counts;
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
