using Cairn.Sqlite;
using Cairn.Storage;

namespace Cairn.Bench;

/// <summary>
/// The store a workload measures, opened in this one place. Today a SQLite file: the one <c>--store</c> names, or a fresh
/// temporary file deleted with its WAL when the workload ends. A PostgreSQL connection string will be recognised here.
/// </summary>
internal sealed class BenchStore : IDisposable
{
    private readonly string _path;
    private readonly bool _temporary;

    private BenchStore(BenchSettings settings, string path, bool temporary)
    {
        Settings = settings;
        _path = path;
        _temporary = temporary;
    }

    public BenchSettings Settings { get; }

    /// <summary>What the tables and the JSON call the store.</summary>
    public string Description => _temporary ? "SQLite, temporary file" : $"SQLite, {_path}";

    public static BenchStore Open(BenchSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Store is not { } location)
        {
            return new BenchStore(settings, Path.Combine(Path.GetTempPath(), $"cairn-bench-{Guid.NewGuid():N}.db"), temporary: true);
        }

        if (location.Contains('=', StringComparison.Ordinal))
        {
            throw new NotSupportedException($"--store '{location}' looks like a connection string; only SQLite files can be measured until the PostgreSQL store exists.");
        }

        return new BenchStore(settings, Path.GetFullPath(location), temporary: false);
    }

    /// <summary>Builds an engine on this store for <paramref name="flow"/>. The scheduled purge is off so it cannot disturb a measurement.</summary>
    public CairnEngine BuildEngine(FlowDefinition flow, int maxConcurrentRuns)
    {
        return CairnEngine.CreateBuilder()
            .UseSqlite(_path, ConfigureSqlite)
            .AddFlow(flow)
            .Configure(o =>
            {
                o.MaxConcurrentRuns = Math.Max(1, maxConcurrentRuns);
                o.RetentionPeriod = null;
            })
            .Build();
    }

    /// <summary>Opens the store without an engine, to watch runs that an engine in another process executes.</summary>
    public async Task<RunStore> OpenReaderAsync(CancellationToken cancellationToken)
    {
        var options = new SqliteStoreOptions { Path = _path };
        ConfigureSqlite(options);
        var store = new SqliteRunStore(options);
        try
        {
            await store.InitializeAsync(cancellationToken);
            return store;
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }

    /// <summary>The options a child process needs to open the same store the same way.</summary>
    public IEnumerable<string> ChildArguments() =>
    [
        "--store", _path,
        "--durability", Settings.Durability,
        "--group-commit", Settings.GroupCommit ? "on" : "off",
    ];

    public void Dispose()
    {
        if (!_temporary)
        {
            return;
        }

        foreach (var file in new[] { _path, _path + "-wal", _path + "-shm", _path + ".lock" })
        {
            File.Delete(file);
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
