using Cairn.Postgres;
using Cairn.Sqlite;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Cairn.Cli;

/// <summary>The --store option every command takes, checking what it names, and opening the store.</summary>
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

        var settings = PostgresSettings(store);
        return $"PostgreSQL database '{settings.Database ?? settings.Username}' on {settings.Host}:{settings.Port}";
    }

    /// <summary>
    /// Checks the value before anything is opened: a PostgreSQL connection string must parse, and a SQLite path must not
    /// look like a connection string and must lie in a folder that exists (nothing creates folders).
    /// </summary>
    /// <exception cref="FormatException">The value is neither.</exception>
    public static void Check(string store)
    {
        if (IsPostgres(store))
        {
            _ = PostgresSettings(store);
            return;
        }

        if (store.Contains(';', StringComparison.Ordinal) && store.Contains('=', StringComparison.Ordinal))
        {
            throw new FormatException(
                $"--store '{store}' looks like a connection string but names no Host= or Server=: give a PostgreSQL connection string with Host=, or a SQLite file's path.");
        }

        string full;
        try
        {
            full = Path.GetFullPath(store);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new FormatException($"--store '{store}' is not a file path: {ex.Message}");
        }

        if (Path.GetDirectoryName(full) is { } folder && !Directory.Exists(folder))
        {
            throw new IOException($"The folder of the store '{full}' does not exist (or this user may not enter it); create it first, or pass another --store.");
        }
    }

    /// <summary>Configures an engine to use the store.</summary>
    public static CairnEngineBuilder UseStore(CairnEngineBuilder builder, string store)
    {
        Check(store);
        return IsPostgres(store) ? builder.UsePostgres(store) : builder.UseSqlite(store);
    }

    /// <summary>
    /// Opens an existing store for the operator API, the only way the tool reads and changes runs. A missing file, or a
    /// file that is not a Cairn store, is an error rather than a new empty store; an older schema is upgraded.
    /// </summary>
    public static async Task<OperatorStore> OpenOperatorAsync(string store, CancellationToken cancellationToken)
    {
        Check(store);
        if (!IsPostgres(store))
        {
            var path = ExistingFile(store);
            if (!await HoldsCairnTablesAsync(path, cancellationToken))
            {
                throw new IOException($"The file '{path}' is not a Cairn store: it has no Cairn tables.");
            }
        }

        return new(
            await (IsPostgres(store) ? (RunStore)new PostgresRunStore(new PostgresStoreOptions { ConnectionString = store }) : new SqliteRunStore(new SqliteStoreOptions { Path = store }))
                .InitializedAsync(cancellationToken),
            IsPostgres(store) ? null : Path.GetFullPath(store));
    }

    /// <summary>Opens an existing store for reading only (<c>runs list</c>, <c>runs show</c>, <c>outbox list</c>): nothing is written to it.</summary>
    public static async Task<OperatorStore> OpenReadOnlyAsync(string store, CancellationToken cancellationToken)
    {
        Check(store);
        RunStore opened = IsPostgres(store)
            ? new PostgresRunStore(new PostgresStoreOptions { ConnectionString = store, ReadOnly = true })
            : new SqliteRunStore(new SqliteStoreOptions { Path = ExistingFile(store), ReadOnly = true });
        return new(await opened.InitializedAsync(cancellationToken), IsPostgres(store) ? null : Path.GetFullPath(store));
    }

    private static string ExistingFile(string store)
    {
        var path = Path.GetFullPath(store);
        return File.Exists(path) ? path
            : Directory.Exists(path) ? throw new IOException($"'{path}' is a folder, not a store file: pass --store FOLDER/cairn.db.")
            : throw new IOException($"No store at '{path}'. Run 'cairn demo' first, or pass --store PATH.");
    }

    /// <summary>Whether a SQLite file holds Cairn's tables, asked without writing to it.</summary>
    private static async Task<bool> HoldsCairnTablesAsync(string path, CancellationToken cancellationToken)
    {
        var readOnly = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString();
        await using var connection = new SqliteConnection(readOnly);
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'cairn_schema')";
        return await command.ExecuteScalarAsync(cancellationToken) is 1L;
    }

    private static NpgsqlConnectionStringBuilder PostgresSettings(string store)
    {
        try
        {
            return new NpgsqlConnectionStringBuilder(store);
        }
        catch (ArgumentException ex)
        {
            throw new FormatException($"--store is not a valid PostgreSQL connection string: {CairnCli.Plain(ex)}");
        }
    }
}
