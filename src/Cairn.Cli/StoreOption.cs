using System.CommandLine;
using Cairn.Postgres;
using Cairn.Sqlite;
using Cairn.Storage;
using Npgsql;

namespace Cairn.Cli;

/// <summary>The --store option every command takes, and opening the store it names.</summary>
internal static class StoreOption
{
    public const string DefaultPath = "./cairn.db";

    public static Option<string> Create() => new("--store", "-s")
    {
        Description = "The store: a SQLite file, or a PostgreSQL connection string (\"Host=db;Database=cairn;Username=cairn\")",
        DefaultValueFactory = _ => DefaultPath,
    };

    /// <summary>Whether the value names a PostgreSQL database (a connection string with a host) rather than a SQLite file.</summary>
    public static bool IsPostgres(string store) =>
        store.Contains("Host=", StringComparison.OrdinalIgnoreCase) || store.Contains("Server=", StringComparison.OrdinalIgnoreCase);

    /// <summary>The store as it can be shown: the file's full path, or the database without the password.</summary>
    public static string Describe(string store)
    {
        if (!IsPostgres(store))
        {
            return Path.GetFullPath(store);
        }

        var settings = new NpgsqlConnectionStringBuilder(store);
        return $"PostgreSQL database '{settings.Database ?? settings.Username}' on {settings.Host}:{settings.Port}";
    }

    /// <summary>Configures an engine to use the store.</summary>
    public static CairnEngineBuilder UseStore(CairnEngineBuilder builder, string store) =>
        IsPostgres(store) ? builder.UsePostgres(store) : builder.UseSqlite(store);

    /// <summary>Opens an existing store; a missing file is an error rather than a new empty store.</summary>
    public static async Task<RunStore> OpenExistingAsync(string store, CancellationToken cancellationToken)
    {
        if (!IsPostgres(store) && !File.Exists(store))
        {
            throw new IOException($"No store at '{Path.GetFullPath(store)}'. Run 'cairn demo' first, or pass --store PATH.");
        }

        return await OpenAsync(store, cancellationToken);
    }

    /// <summary>Opens an existing store for the operator API, the only way the tool reads and changes runs.</summary>
    public static async Task<OperatorStore> OpenOperatorAsync(string store, CancellationToken cancellationToken) =>
        new(await OpenExistingAsync(store, cancellationToken));

    public static async Task<RunStore> OpenAsync(string store, CancellationToken cancellationToken)
    {
        RunStore runStore = IsPostgres(store)
            ? new PostgresRunStore(new PostgresStoreOptions { ConnectionString = store })
            : new SqliteRunStore(new SqliteStoreOptions { Path = store });
        try
        {
            await runStore.InitializeAsync(cancellationToken);
            return runStore;
        }
        catch
        {
            await runStore.DisposeAsync();
            throw;
        }
    }
}
