using System.Globalization;
using System.Text;
using Npgsql;

namespace Cairn.Postgres;

public sealed partial class PostgresRunStore
{
    /// <summary>
    /// Creates the schema when missing and applies the missing migrations in one transaction, under a transaction-level
    /// advisory lock: nodes starting together take turns, and the later ones find the schema current. Safe to call more
    /// than once and from several processes.
    /// </summary>
    /// <exception cref="StoreUnavailableException">
    /// The database cannot be reached or refuses the changes, or its schema is newer than this version of Cairn.
    /// </exception>
    public override async Task InitializeAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var schema = _sql.Schema;
        var applied = new List<SchemaMigration>();
        try
        {
            if (_readOnly)
            {
                await CheckReadableSchemaAsync(cancellationToken).ConfigureAwait(false);
                return;
            }

            var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await using (transaction.ConfigureAwait(false))
                {
                    // Released at commit or rollback, also when this process dies in between.
                    await ExecuteAsync(connection, "SELECT pg_advisory_xact_lock(@key)", cancellationToken, ("key", MigrationLockKey(schema))).ConfigureAwait(false);

                    // Checked before creating: CREATE … IF NOT EXISTS needs the CREATE privilege even when nothing is created.
                    var exists = await ExecuteAsync(connection, "SELECT to_regclass(@table) IS NOT NULL", cancellationToken, ("table", _sql.SchemaVersionTable)).ConfigureAwait(false);
                    if (exists is not true)
                    {
                        await ExecuteAsync(connection,
                            $"""
                            DO $$ BEGIN
                                IF NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = '{schema}') THEN CREATE SCHEMA "{schema}"; END IF;
                            END $$;
                            CREATE TABLE {_sql.SchemaVersionTable} (
                                version    integer     NOT NULL PRIMARY KEY,
                                name       text        NOT NULL,
                                applied_at timestamptz NOT NULL
                            )
                            """,
                            cancellationToken).ConfigureAwait(false);
                    }

                    var current = Convert.ToInt32(
                        await ExecuteAsync(connection, $"SELECT COALESCE(max(version), 0) FROM {_sql.SchemaVersionTable}", cancellationToken).ConfigureAwait(false),
                        CultureInfo.InvariantCulture);
                    if (current > PostgresMigration.LatestVersion)
                    {
                        throw new StoreUnavailableException(
                            $"{Capitalized(_database)}, schema '{schema}', has schema version {current}, but this version of Cairn supports schema " +
                            $"versions up to {PostgresMigration.LatestVersion}: it was written by a newer Cairn. Upgrade Cairn to use it.");
                    }

                    var missing = PostgresMigration.All.Where(m => m.Version > current).ToList();
                    if (missing.Count > 0)
                    {
                        // The scripts name no schema: search_path points them at the store's, for this transaction only.
                        await ExecuteAsync(connection, $"SET LOCAL search_path TO \"{schema}\"", cancellationToken).ConfigureAwait(false);
                        foreach (var migration in missing)
                        {
                            await ExecuteAsync(connection, migration.Sql, cancellationToken).ConfigureAwait(false);
                            await ExecuteAsync(connection, $"INSERT INTO {_sql.SchemaVersionTable} (version, name, applied_at) VALUES (@version, @name, now())",
                                cancellationToken, ("version", migration.Version), ("name", migration.Name)).ConfigureAwait(false);
                            applied.Add(migration);
                        }
                    }

                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (NpgsqlException ex) when (IsUnavailable(ex))
        {
            throw Unavailable(ex);
        }
        catch (NpgsqlException ex)
        {
            throw new StoreUnavailableException($"{Capitalized(_database)} cannot be used: setting up schema '{schema}' failed: {ex.Message}", ex);
        }

        foreach (var migration in applied)
        {
            Log.Postgres.MigrationApplied(_logger, migration.Version, migration.Name, _database, schema);
        }

        Log.Postgres.SchemaReady(_logger, _database, schema, PostgresMigration.LatestVersion);
    }

    /// <summary>For a read-only store: the schema must exist at this version of Cairn's; nothing is written.</summary>
    private async Task CheckReadableSchemaAsync(CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var exists = await ExecuteAsync(connection, "SELECT to_regclass(@table) IS NOT NULL", cancellationToken, ("table", _sql.SchemaVersionTable)).ConfigureAwait(false);
            int? current = exists is true
                ? Convert.ToInt32(await ExecuteAsync(connection, $"SELECT COALESCE(max(version), 0) FROM {_sql.SchemaVersionTable}", cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture)
                : null;
            var latest = PostgresMigration.LatestVersion;
            var problem = current is not { } known ? "holds no Cairn store"
                : known < latest ? $"has schema version {known}, older than this version of Cairn's ({latest}); open it once for writing (an engine, or a cairn command that changes runs) to upgrade it"
                : known > latest ? $"has schema version {known}, written by a newer Cairn (this one supports up to {latest})"
                : null;
            if (problem is not null)
            {
                throw new StoreUnavailableException($"{Capitalized(_database)}, schema '{_sql.Schema}', {problem}.");
            }
        }
    }

    private static async Task<object?> ExecuteAsync(
        NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }

    // A stable 64-bit key per schema (FNV-1a), so that stores in different schemas do not wait for each other.
    private static long MigrationLockKey(string schema)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes($"cairn.migrations:{schema}"))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return unchecked((long)hash);
    }

    private static string Capitalized(string text) => string.Concat(text[..1].ToUpperInvariant(), text[1..]);
}
