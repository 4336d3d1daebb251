namespace Cairn.Postgres;

/// <summary>The store's numbered schema scripts, embedded from <c>Migrations/NNNN_name.sql</c>.</summary>
internal static class PostgresMigration
{
    /// <summary>All migrations, in version order; versions run 1, 2, 3… without gaps.</summary>
    public static IReadOnlyList<SchemaMigration> All { get; } = SchemaMigration.LoadEmbedded(typeof(PostgresMigration).Assembly, "Cairn.Postgres.Migrations.");

    /// <summary>The schema version this code creates and understands.</summary>
    public static int LatestVersion => All[^1].Version;
}
