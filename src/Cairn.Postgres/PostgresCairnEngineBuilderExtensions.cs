using Microsoft.Extensions.Logging;
using Npgsql;

namespace Cairn.Postgres;

/// <summary>Configures an engine to use the PostgreSQL store.</summary>
public static class PostgresCairnEngineBuilderExtensions
{
    /// <summary>
    /// Stores runs in the PostgreSQL database the connection string names, in the schema <c>cairn</c> unless configured
    /// otherwise (created with the tables when missing). Several engines may share the database: they coordinate through
    /// leases, and every time is the database's clock, not the engine's (whose clock drives only the store's timers).
    /// </summary>
    /// <param name="builder">The engine builder.</param>
    /// <param name="connectionString">The Npgsql connection string, for example <c>Host=db;Database=cairn;Username=cairn</c>.</param>
    /// <param name="configure">Changes further store options.</param>
    public static CairnEngineBuilder UsePostgres(this CairnEngineBuilder builder, string connectionString, Action<PostgresStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return builder.UseStore(context => new PostgresStoreOptions { ConnectionString = connectionString, TimeProvider = context.TimeProvider }, configure, Log.Postgres.Category, Create);
    }

    /// <summary>
    /// Stores runs in the PostgreSQL database of a data source the caller owns (and disposes after the engine), in the
    /// schema <c>cairn</c> unless configured otherwise.
    /// </summary>
    /// <param name="builder">The engine builder.</param>
    /// <param name="dataSource">The data source, for example one shared with the application.</param>
    /// <param name="configure">Changes further store options.</param>
    public static CairnEngineBuilder UsePostgres(this CairnEngineBuilder builder, NpgsqlDataSource dataSource, Action<PostgresStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(dataSource);
        return builder.UseStore(context => new PostgresStoreOptions { DataSource = dataSource, TimeProvider = context.TimeProvider }, configure, Log.Postgres.Category, Create);
    }

    private static PostgresRunStore Create(PostgresStoreOptions options, ILogger logger) => options.ReadOnly
        ? throw new ArgumentException("PostgresStoreOptions.ReadOnly is set: an engine writes its store, so it cannot use a read-only one.")
        : new(options, logger);
}
