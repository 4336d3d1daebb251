namespace Cairn.Sqlite;

/// <summary>Configures an engine to use the embedded SQLite store.</summary>
public static class SqliteCairnEngineBuilderExtensions
{
    /// <summary>
    /// Stores runs in the SQLite file at <paramref name="path"/> (created if missing), durable by default
    /// (<c>synchronous=FULL</c>). The engine takes the file's worker lock: one engine per file.
    /// </summary>
    /// <param name="builder">The engine builder.</param>
    /// <param name="path">The database file.</param>
    /// <param name="configure">Changes further store options.</param>
    public static CairnEngineBuilder UseSqlite(this CairnEngineBuilder builder, string path, Action<SqliteStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return builder.UseStore(
            context => new SqliteStoreOptions { Path = path, TimeProvider = context.TimeProvider },
            configure,
            Log.Sqlite.Category,
            (options, logger) => options.ReadOnly
                ? throw new ArgumentException($"SqliteStoreOptions.ReadOnly is set for '{options.Path}': an engine writes its store, so it cannot use a read-only one.")
                : new SqliteRunStore(options, logger));
    }
}
