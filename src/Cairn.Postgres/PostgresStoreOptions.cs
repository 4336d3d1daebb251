using Npgsql;

namespace Cairn.Postgres;

/// <summary>Settings of a <see cref="PostgresRunStore"/>. Validated when the store is created.</summary>
/// <remarks>
/// Every time the store records or compares (creation, lease expiry, due times of retries, event times) is the
/// database's clock, <c>now()</c>, so that nodes whose clocks disagree still agree on leases; <see cref="TimeProvider"/>
/// drives only the store's own timers.
/// </remarks>
public sealed class PostgresStoreOptions
{
    /// <summary>The largest <see cref="MaxGroupCommitSize"/>: PostgreSQL caches 64 subtransactions per session.</summary>
    internal const int GroupCommitLimit = 64;

    /// <summary>
    /// The Npgsql connection string, for example <c>Host=db;Database=cairn;Username=cairn;Password=…</c>. Set this or
    /// <see cref="DataSource"/>, not both. The store creates and disposes its own data source from it, with automatic
    /// statement preparation (<c>Max Auto Prepare=32</c>) unless the connection string sets <c>Max Auto Prepare</c>, and
    /// at most 20 connections (<c>Maximum Pool Size=20</c>) unless it sets <c>Maximum Pool Size</c>: a node writes
    /// through a few connections at a time (<see cref="GroupCommitWriters"/>), and several nodes must fit in the server's <c>max_connections</c>.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// A data source the caller owns and disposes, for example one shared with the application. Set this or
    /// <see cref="ConnectionString"/>, not both.
    /// </summary>
    public NpgsqlDataSource? DataSource { get; set; }

    /// <summary>
    /// The PostgreSQL schema that holds the store's tables, created when missing. Default <c>cairn</c>. Lower-case
    /// letters, digits and underscores, starting with a letter or underscore, at most 63 characters, not <c>pg_…</c>.
    /// </summary>
    public string Schema { get; set; } = "cairn";

    /// <summary>
    /// The most writes committed together in one transaction (group commit: one round trip and one WAL flush for many
    /// runs' checkpoints; if one write fails, the group is sent again with each write in its own savepoint so that it
    /// fails alone). Default 64, the most PostgreSQL keeps in its per-session subtransaction cache; 1 turns grouping off:
    /// every write then commits alone, concurrently with the others.
    /// </summary>
    public int MaxGroupCommitSize { get; set; } = GroupCommitLimit;

    /// <summary>The largest <see cref="GroupCommitWriters"/>.</summary>
    public const int GroupCommitWritersLimit = 16;

    /// <summary>
    /// How many group commits may be in flight at once, each on a connection of its own. While one group waits for its
    /// WAL flush, the next writes are sent as another group, so a node's throughput follows the cores rather than the
    /// disk's flush latency. Fencing and a run's order of writes are unchanged: every write is conditional on the run's
    /// lease, and a run waits for each write before its next. Default 1, one group at a time: on a machine whose disk
    /// flushes in about 0.1 ms, more writers make smaller groups that cost the database more per run than the overlap
    /// saves (measured in docs/benchmarks.md, issue 14); a slower disk or a database server of its own may gain from 2–4.
    /// Between 1 and <see cref="GroupCommitWritersLimit"/>.
    /// </summary>
    public int GroupCommitWriters { get; set; } = 1;

    /// <summary>
    /// Opens the store for reading only, for tools that look at runs without changing anything (<c>cairn runs list</c>):
    /// no schema is created or migrated, <see cref="PostgresRunStore.InitializeAsync"/> refuses a database without this
    /// version's schema, and the store's sessions are read-only (<c>default_transaction_read_only</c>), so every write
    /// fails. An engine cannot use a read-only store. Default false.
    /// </summary>
    public bool ReadOnly { get; set; }

    /// <summary>
    /// The clock of the store's timers: the growing delay before a connection of its own (the wake-up listener's, the node
    /// lock's) is opened again after a loss, and the interval between its checks of those connections. Never the times the
    /// store records or compares, which are the database's. Default <see cref="TimeProvider.System"/>; <c>UsePostgres</c>
    /// gives the store the engine's clock.
    /// </summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Testing hook, not for production: when set, the store uses this clock's time instead of the database's
    /// <c>now()</c>, so that tests on a fake clock can expire leases and make retries due without waiting.
    /// </summary>
    internal Func<DateTimeOffset>? TestClock { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    internal void Validate()
    {
        const string ParamName = "options";
        if (string.IsNullOrWhiteSpace(ConnectionString) == (DataSource is null))
        {
            throw new ArgumentException(
                "Set exactly one of PostgresStoreOptions.ConnectionString (for example \"Host=localhost;Database=cairn;Username=cairn\") and PostgresStoreOptions.DataSource.",
                ParamName);
        }

        if (ConnectionString is not null && DataSource is null)
        {
            try
            {
                _ = new NpgsqlConnectionStringBuilder(ConnectionString);
            }
            catch (ArgumentException ex)
            {
                throw new ArgumentException($"PostgresStoreOptions.ConnectionString is not a valid Npgsql connection string: {ex.Message}", ParamName, ex);
            }
        }

        if (!IsValidSchemaName(Schema))
        {
            throw new ArgumentException(
                $"PostgresStoreOptions.Schema '{Schema}' is not a valid schema name: use lower-case letters, digits and underscores, starting with a letter or underscore, at most 63 characters, not starting with 'pg_'.",
                ParamName);
        }

        if (MaxGroupCommitSize is < 1 or > GroupCommitLimit)
        {
            throw new ArgumentException($"PostgresStoreOptions.MaxGroupCommitSize must be between 1 and {GroupCommitLimit}; it is {MaxGroupCommitSize}.", ParamName);
        }

        if (GroupCommitWriters is < 1 or > GroupCommitWritersLimit)
        {
            throw new ArgumentException(
                $"PostgresStoreOptions.GroupCommitWriters must be between 1 and {GroupCommitWritersLimit}; it is {GroupCommitWriters}.", ParamName);
        }

        if (TimeProvider is null)
        {
            throw new ArgumentException("PostgresStoreOptions.TimeProvider must not be null; leave it at TimeProvider.System unless testing.", ParamName);
        }
    }

    // Only names that need no quoting, so that the name reads the same in psql as in the options.
    private static bool IsValidSchemaName(string? name) =>
        name is { Length: > 0 and <= 63 }
        && (char.IsAsciiLetterLower(name[0]) || name[0] == '_')
        && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_')
        && !name.StartsWith("pg_", StringComparison.Ordinal);
}
