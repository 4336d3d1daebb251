using System.Globalization;
using Cairn.Postgres;
using Cairn.Postgres.TestSupport;
using System.Data.Common;
using Cairn.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Npgsql;

namespace Cairn.Bench;

/// <summary>
/// The store a workload measures, opened in this one place. <c>--store</c> names it:
/// <list type="bullet">
/// <item>nothing: a fresh temporary SQLite file, deleted with its WAL when the workload ends;</item>
/// <item>a path: that SQLite file;</item>
/// <item><c>postgres</c>: a throwaway PostgreSQL cluster on 127.0.0.1 in a temporary folder (fsync and synchronous_commit
/// on), started for the workload and deleted afterwards;</item>
/// <item>a PostgreSQL connection string (<c>Host=...</c>): that database.</item>
/// </list>
/// On PostgreSQL the runs go to a fresh schema, dropped afterwards, unless <c>--schema</c> names one (child processes
/// are given the parent's).
/// </summary>
internal sealed class BenchStore : IAsyncDisposable
{
    public const string ThrowawayPostgres = "postgres";

    private readonly string _location;
    private readonly string? _schema;
    private readonly bool _temporary;
    private readonly PostgresServer? _server;

    private BenchStore(BenchSettings settings, string location, string? schema, bool temporary, PostgresServer? server)
    {
        Settings = settings;
        _location = location;
        _schema = schema;
        _temporary = temporary;
        _server = server;
    }

    public BenchSettings Settings { get; }

    public bool IsPostgres => _schema is not null;

    /// <summary>What the tables and the JSON call the store.</summary>
    public string Description => (IsPostgres, _temporary) switch
    {
        (false, true) => "SQLite, temporary file",
        (false, false) => $"SQLite, {_location}",
        _ => $"PostgreSQL {(_server is null ? DescribeServer(_location) : "throwaway cluster on 127.0.0.1, fsync on, synchronous_commit on")}, schema {_schema}",
    };

    public static async Task<BenchStore> OpenAsync(BenchSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Store is not { } location)
        {
            return new BenchStore(settings, Path.Combine(Path.GetTempPath(), $"cairn-bench-{Guid.NewGuid():N}.db"), null, temporary: true, server: null);
        }

        if (string.Equals(location, ThrowawayPostgres, StringComparison.OrdinalIgnoreCase))
        {
            var server = await PostgresServer.StartNewAsync().WaitAsync(cancellationToken);
            return new BenchStore(settings, server.ConnectionString(), NewSchema(), temporary: true, server);
        }

        if (location.Contains('=', StringComparison.Ordinal))
        {
            return new BenchStore(settings, location, settings.Schema ?? NewSchema(), temporary: settings.Schema is null, server: null);
        }

        return new BenchStore(settings, Path.GetFullPath(location), null, temporary: false, server: null);
    }

    /// <summary>Builds an engine on this store for <paramref name="flow"/>. The scheduled purge is off so it cannot disturb a measurement.</summary>
    /// <param name="flow">The flow.</param>
    /// <param name="maxConcurrentRuns">The engine's slots.</param>
    /// <param name="nodeName">The node's name; null for a new one.</param>
    /// <param name="leaseDuration">The lease; null for the engine's default.</param>
    /// <param name="configure">More of the engine's configuration, such as outbox publishers.</param>
    public CairnEngine BuildEngine(
        FlowDefinition flow, int maxConcurrentRuns, string? nodeName = null, TimeSpan? leaseDuration = null, Action<CairnEngineBuilder>? configure = null)
    {
        var builder = CairnEngine.CreateBuilder().UseLoggerFactory(LoggerFactory);
        builder = IsPostgres ? builder.UsePostgres(ConnectionString, ConfigurePostgres) : builder.UseSqlite(_location, ConfigureSqlite);
        configure?.Invoke(builder);
        return builder
            .AddFlow(flow)
            .Configure(o =>
            {
                o.MaxConcurrentRuns = Math.Max(1, maxConcurrentRuns);
                o.RetentionPeriod = null;
                o.NodeName = nodeName;
                if (leaseDuration is { } lease)
                {
                    o.LeaseDuration = lease;
                }
            })
            .Build();
    }

    /// <summary>
    /// The store's database as an application sees it, for workloads whose stages write tables of their own there: the
    /// SQLite file, or the PostgreSQL database (with the engines' session settings).
    /// </summary>
    public DbDataSource OpenApplicationDataSource() => IsPostgres
        ? NpgsqlDataSource.Create(ConnectionString)
        : SqliteFactory.Instance.CreateDataSource(new SqliteConnectionStringBuilder { DataSource = _location, DefaultTimeout = 30 }.ToString());

    /// <summary>The store's database named as the <c>cairn</c> tool names a store: the SQLite file, or the PostgreSQL connection string.</summary>
    public string ApplicationDatabase => IsPostgres ? ConnectionString : _location;

    /// <summary>An application table's name in the store's database: in the run's schema on PostgreSQL.</summary>
    public string ApplicationTable(string name) => IsPostgres ? $"\"{_schema}\".{name}" : name;

    /// <summary>Opens the store without an engine, to watch runs that an engine in another process executes.</summary>
    public async Task<RunStore> OpenReaderAsync(CancellationToken cancellationToken)
    {
        RunStore store;
        if (IsPostgres)
        {
            var options = new PostgresStoreOptions { ConnectionString = ConnectionString };
            ConfigurePostgres(options);
            store = new PostgresRunStore(options);
        }
        else
        {
            var options = new SqliteStoreOptions { Path = _location };
            ConfigureSqlite(options);
            store = new SqliteRunStore(options);
        }

        return await store.InitializedAsync(cancellationToken);
    }

    /// <summary>The options a child process needs to open the same store the same way.</summary>
    public IEnumerable<string> ChildArguments() =>
    [
        "--store", _location,
        .. IsPostgres ? ["--schema", _schema!] : Array.Empty<string>(),
        "--durability", Settings.Durability,
        "--group-commit", Settings.GroupCommit ? "on" : "off",
        .. Settings.GroupCommitWriters is { } writers ? ["--group-commit-writers", writers.ToString(CultureInfo.InvariantCulture)] : Array.Empty<string>(),
    ];

    public async ValueTask DisposeAsync()
    {
        if (!_temporary)
        {
            return;
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
        else if (IsPostgres)
        {
            await using var dataSource = NpgsqlDataSource.Create(_location);
            await using var drop = dataSource.CreateCommand($"DROP SCHEMA IF EXISTS \"{_schema}\" CASCADE");
            await drop.ExecuteNonQueryAsync();
        }
        else
        {
            foreach (var file in new[] { _location, _location + "-wal", _location + "-shm", _location + ".lock" })
            {
                File.Delete(file);
            }
        }
    }

    /// <summary>
    /// The connection string the engines use: durability "normal" turns synchronous_commit off for their sessions (a
    /// commit returns before its WAL is flushed; a crash of the database may lose the last commits, never corrupt them).
    /// </summary>
    private string ConnectionString => Settings.Durability == BenchSettings.Normal
        ? new NpgsqlConnectionStringBuilder(_location) { Options = "-c synchronous_commit=off" }.ConnectionString
        : _location;

    /// <summary>
    /// Warnings and errors of the engines and stores, on standard error: rare, and a measurement they disturb should say
    /// so. Child processes' standard error reaches the parent's messages when a child fails.
    /// </summary>
    private static ILoggerFactory LoggerFactory { get; } = Microsoft.Extensions.Logging.LoggerFactory.Create(logging =>
    {
        logging.SetMinimumLevel(Environment.GetEnvironmentVariable("CAIRN_BENCH_LOG") == "debug" ? LogLevel.Debug : LogLevel.Warning);
        logging.AddSimpleConsole(console => console.SingleLine = true);
        logging.Services.Configure<ConsoleLoggerOptions>(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
    });

    private static string NewSchema() => $"bench_{Guid.NewGuid().ToString("N")[..8]}";

    private static string DescribeServer(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"{builder.Host}:{builder.Port}/{builder.Database}";
    }

    private void ConfigurePostgres(PostgresStoreOptions options)
    {
        options.Schema = _schema!;
        if (Settings.GroupCommitWriters is { } writers)
        {
            options.GroupCommitWriters = writers;
        }

        if (!Settings.GroupCommit)
        {
            options.MaxGroupCommitSize = 1;
        }
    }

    private void ConfigureSqlite(SqliteStoreOptions options)
    {
        options.Durability = Settings.Durability == BenchSettings.Normal ? SqliteDurability.Normal : SqliteDurability.Full;
        if (!Settings.GroupCommit)
        {
            // One transaction (and one fsync) per write: the store's behaviour before group commit.
            options.MaxGroupCommitSize = 1;
        }
    }
}
