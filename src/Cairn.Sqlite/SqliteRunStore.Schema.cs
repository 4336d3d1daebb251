using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Cairn.Sqlite;

public sealed partial class SqliteRunStore
{
    /// <summary>
    /// Opens (or creates) the database file, switches it to the WAL journal and applies the missing schema migrations in
    /// one transaction. Safe to call more than once and from several processes.
    /// </summary>
    /// <exception cref="StoreUnavailableException">
    /// The file cannot be opened or is not a SQLite database, or its schema is newer than this version of Cairn.
    /// </exception>
    public override async Task InitializeAsync(CancellationToken cancellationToken)
    {
        if (_readOnly)
        {
            CheckReadableSchema();
            return;
        }

        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var connection = OpenConnection();
            if (SQLitePCL.raw.sqlite3_db_readonly(connection.Handle, "main") == 1)
            {
                // SQLite opens a file it may not write (permissions, a read-only file system) for reading without a word.
                throw new StoreUnavailableException(
                    $"The SQLite database '{_path}' is read-only (its file or folder cannot be written): an engine must write its store. " +
                    "To look at its runs without changing them, open it with SqliteStoreOptions.ReadOnly.");
            }

            // WAL lets readers (the console, the CLI) work while the engine writes. The mode is stored in the file, and
            // cannot change inside a transaction.
            using (var journal = Command(connection, null, "PRAGMA journal_mode = WAL"))
            {
                var mode = Convert.ToString(journal.ExecuteScalar(), CultureInfo.InvariantCulture) ?? "";
                if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
                {
                    Log.Sqlite.WalUnavailable(_logger, _path, mode);
                }
            }

            using var transaction = connection.BeginTransaction(); // BEGIN IMMEDIATE: one process migrates at a time.
            using (var create = Command(connection, transaction,
                "CREATE TABLE IF NOT EXISTS cairn_schema (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"))
            {
                create.ExecuteNonQuery();
            }

            int current;
            using (var version = Command(connection, transaction, "SELECT COALESCE(MAX(version), 0) FROM cairn_schema"))
            {
                current = Convert.ToInt32(version.ExecuteScalar(), CultureInfo.InvariantCulture);
            }

            if (current > SqliteMigration.LatestVersion)
            {
                throw new StoreUnavailableException(
                    $"The SQLite database '{_path}' has schema version {current}, but this version of Cairn supports schema " +
                    $"versions up to {SqliteMigration.LatestVersion}: it was written by a newer Cairn. Upgrade Cairn to use it.");
            }

            var now = Ticks(_timeProvider.GetUtcNow());
            var applied = new List<SchemaMigration>();
            foreach (var migration in SqliteMigration.All.Where(m => m.Version > current))
            {
                using (var script = Command(connection, transaction, migration.Sql))
                {
                    script.ExecuteNonQuery();
                }

                using var record = Command(connection, transaction, "INSERT INTO cairn_schema (version, name, applied_at) VALUES ($version, $name, $now)");
                Bind(record, "$version", migration.Version);
                Bind(record, "$name", migration.Name);
                Bind(record, "$now", now);
                record.ExecuteNonQuery();
                applied.Add(migration);
            }

            transaction.Commit();
            foreach (var migration in applied)
            {
                Log.Sqlite.MigrationApplied(_logger, migration.Version, migration.Name, _path);
            }

            Log.Sqlite.SchemaReady(_logger, _path, SqliteMigration.LatestVersion);
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode == 8)
        {
            // SQLITE_READONLY: for a WAL file in a folder this process may not write, already at the first statement.
            throw new StoreUnavailableException($"The SQLite database '{_path}' is read-only (its file or folder cannot be written): an engine must write its store.", ex);
        }
        catch (SqliteException ex)
        {
            throw new StoreUnavailableException($"The SQLite database '{_path}' cannot be used: {ex.Message}", ex);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>For a read-only store: the file must exist and hold this version's schema; nothing is written.</summary>
    private void CheckReadableSchema()
    {
        if (!File.Exists(_path))
        {
            throw new StoreUnavailableException($"There is no SQLite store at '{_path}'.");
        }

        try
        {
            using var connection = OpenConnection(forWrites: false);
            int? current = null;
            using (var exists = Command(connection, null, "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'cairn_schema')"))
            {
                if (exists.ExecuteScalar() is 1L)
                {
                    using var version = Command(connection, null, "SELECT COALESCE(MAX(version), 0) FROM cairn_schema");
                    current = Convert.ToInt32(version.ExecuteScalar(), CultureInfo.InvariantCulture);
                }
            }

            var latest = SqliteMigration.LatestVersion;
            var problem = current is not { } known ? "is not a Cairn store: it has no Cairn tables"
                : known < latest ? $"has schema version {known}, older than this version of Cairn's ({latest}); " +
                    "open it once for writing (an engine, or a cairn command that changes runs) to upgrade it"
                : known > latest ? $"has schema version {known}, written by a newer Cairn (this one supports up to {latest})"
                : null;
            if (problem is not null)
            {
                throw new StoreUnavailableException($"The SQLite database '{_path}' {problem}.");
            }
        }
        catch (SqliteException ex)
        {
            throw new StoreUnavailableException($"The SQLite database '{_path}' cannot be read: {ex.Message}", ex);
        }
    }
}
