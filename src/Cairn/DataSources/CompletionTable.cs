using System.Data;
using System.Data.Common;

namespace Cairn.DataSources;

/// <summary>
/// The table of an application's database where stages bound to it record their completions: one row per run and stage
/// (primary key <c>(run_id, stage_key)</c>), inserted in the stage's transaction, deleted when the run completes and by
/// the engine's purge. The data source creates it on first use (<see cref="EnsureCreatedAsync"/>); to create it by hand
/// or in your own migrations instead, run <see cref="CreateTableSql"/>.
/// </summary>
public sealed class CompletionTable
{
    /// <summary>The table's default name: <c>cairn_stage_completions</c>.</summary>
    public const string DefaultTableName = "cairn_stage_completions";

    private const int MaxIdentifierLength = 63;

    private readonly string _find;
    private readonly string _insert;
    private readonly string _deleteRun;
    private readonly string _deleteOlder;

    /// <param name="dialect">The database's SQL dialect.</param>
    /// <param name="tableName">
    /// The table's name, optionally schema-qualified (<c>app.cairn_stage_completions</c>; the schema must exist): letters,
    /// digits and '_', not starting with a digit. Default <see cref="DefaultTableName"/>.
    /// </param>
    /// <exception cref="ArgumentException">The name is not a plain or schema-qualified identifier.</exception>
    public CompletionTable(CompletionDialect dialect, string? tableName = null)
    {
        if (!Enum.IsDefined(dialect))
        {
            throw new ArgumentOutOfRangeException(nameof(dialect), dialect, "Unknown SQL dialect.");
        }

        tableName ??= DefaultTableName;
        if (!IsValidName(tableName))
        {
            throw new ArgumentException(
                $"The completion table name '{tableName}' is invalid: use an identifier of letters, digits and '_' (not starting with a digit, at most {MaxIdentifierLength} characters), optionally qualified by a schema: 'app.{DefaultTableName}'.",
                nameof(tableName));
        }

        Dialect = dialect;
        TableName = tableName;
        CreateTableSql = dialect switch
        {
            CompletionDialect.Sqlite =>
                $"CREATE TABLE IF NOT EXISTS {tableName} (run_id TEXT NOT NULL, stage_key TEXT NOT NULL, attempt INTEGER NOT NULL, state BLOB NOT NULL, outbox BLOB NULL, completed_at TEXT NOT NULL, PRIMARY KEY (run_id, stage_key));",
            CompletionDialect.PostgreSql =>
                $"CREATE TABLE IF NOT EXISTS {tableName} (run_id text NOT NULL, stage_key text NOT NULL, attempt integer NOT NULL, state bytea NOT NULL, outbox bytea NULL, completed_at timestamptz NOT NULL, PRIMARY KEY (run_id, stage_key));",
            CompletionDialect.SqlServer =>
                $"IF OBJECT_ID(N'{tableName}', N'U') IS NULL CREATE TABLE {tableName} (run_id nvarchar(36) NOT NULL, stage_key nvarchar(400) NOT NULL, attempt int NOT NULL, state varbinary(max) NOT NULL, outbox varbinary(max) NULL, completed_at datetime2 NOT NULL, PRIMARY KEY (run_id, stage_key));",
            _ =>
                $"CREATE TABLE IF NOT EXISTS {tableName} (run_id varchar(36) NOT NULL, stage_key varchar(255) NOT NULL, attempt int NOT NULL, state longblob NOT NULL, outbox longblob NULL, completed_at datetime(6) NOT NULL, PRIMARY KEY (run_id, stage_key));",
        };

        // Named parameters with '@' work with every provider of the four dialects.
        _find = $"SELECT attempt, state, outbox, completed_at FROM {tableName} WHERE run_id = @run_id AND stage_key = @stage_key";
        _insert = $"INSERT INTO {tableName} (run_id, stage_key, attempt, state, outbox, completed_at) VALUES (@run_id, @stage_key, @attempt, @state, @outbox, @completed_at)";
        _deleteRun = $"DELETE FROM {tableName} WHERE run_id = @run_id";
        _deleteOlder = $"DELETE FROM {tableName} WHERE completed_at < @cutoff";
    }

    /// <summary>The database's SQL dialect.</summary>
    public CompletionDialect Dialect { get; }

    /// <summary>The table's name, as given (schema-qualified or not).</summary>
    public string TableName { get; }

    /// <summary>
    /// The statement that creates the table if it is missing, in the table's dialect. The data source runs it on first
    /// use; run it by hand (or put it in your own migrations) where the application's account may not create tables.
    /// </summary>
    public string CreateTableSql { get; }

    /// <summary>Finds the dialect of a connection from its type: <c>SqliteConnection</c>, <c>NpgsqlConnection</c>, <c>SqlConnection</c>, <c>MySqlConnection</c>.</summary>
    /// <exception cref="NotSupportedException">The connection is of another database.</exception>
    public static CompletionDialect DetectDialect(DbConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return connection.GetType().Name switch
        {
            "SqliteConnection" => CompletionDialect.Sqlite,
            "NpgsqlConnection" => CompletionDialect.PostgreSql,
            "SqlConnection" => CompletionDialect.SqlServer,
            "MySqlConnection" => CompletionDialect.MySql,
            var other => throw new NotSupportedException(
                $"The completion table's SQL dialect cannot be told from the connection type {other}: pass a {nameof(CompletionDialect)}."),
        };
    }

    /// <summary>Creates the table if it is missing (<see cref="CreateTableSql"/>); running it again changes nothing.</summary>
    /// <param name="connection">An open connection with no transaction begun.</param>
    /// <param name="cancellationToken">Cancels the creation.</param>
    public async Task EnsureCreatedAsync(DbConnection connection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var command = connection.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.CommandText = CreateTableSql;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The completion recorded for a run's stage, or null.</summary>
    internal async Task<StageCompletion?> FindAsync(DbConnection connection, DbTransaction? transaction, RunId runId, string stageKey, CancellationToken cancellationToken)
    {
        var command = Command(connection, transaction, _find);
        await using (command.ConfigureAwait(false))
        {
            Add(command, "@run_id", DbType.String, runId.ToString());
            Add(command, "@stage_key", DbType.String, stageKey);
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    return null;
                }

                var attempt = Convert.ToInt32(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture);
                var state = (byte[])reader.GetValue(1);
                var outbox = await reader.IsDBNullAsync(2, cancellationToken).ConfigureAwait(false) ? null : (byte[])reader.GetValue(2);
                return new StageCompletion(runId, stageKey, attempt, state, outbox, ReadTime(reader.GetValue(3)));
            }
        }
    }

    /// <summary>Inserts a completion; fails (a <see cref="DbException"/>) when the run's stage already has one.</summary>
    internal async Task InsertAsync(DbConnection connection, DbTransaction? transaction, StageCompletion completion, CancellationToken cancellationToken)
    {
        var command = Command(connection, transaction, _insert);
        await using (command.ConfigureAwait(false))
        {
            Add(command, "@run_id", DbType.String, completion.RunId.ToString());
            Add(command, "@stage_key", DbType.String, completion.StageKey);
            Add(command, "@attempt", DbType.Int32, completion.Attempt);
            Add(command, "@state", DbType.Binary, completion.State);
            Add(command, "@outbox", DbType.Binary, completion.Outbox);
            AddTime(command, "@completed_at", completion.CompletedAt);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Deletes the completions of a run; returns how many.</summary>
    internal async Task<int> DeleteRunAsync(DbConnection connection, DbTransaction? transaction, RunId runId, CancellationToken cancellationToken)
    {
        var command = Command(connection, transaction, _deleteRun);
        await using (command.ConfigureAwait(false))
        {
            Add(command, "@run_id", DbType.String, runId.ToString());
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Deletes the completions committed before <paramref name="cutoff"/>; returns how many.</summary>
    internal async Task<int> DeleteOlderThanAsync(DbConnection connection, DbTransaction? transaction, DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        var command = Command(connection, transaction, _deleteOlder);
        await using (command.ConfigureAwait(false))
        {
            AddTime(command, "@cutoff", cutoff);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql)
    {
        var command = connection.CreateCommand();
#pragma warning disable CA2100 // The SQL is made of constants and a table name validated as an identifier.
        command.CommandText = sql;
#pragma warning restore CA2100
        command.Transaction = transaction;
        return command;
    }

    private static void Add(DbCommand command, string name, DbType type, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.DbType = type;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }

    /// <summary>
    /// Times travel in UTC; SQLite keeps them as sortable ISO 8601 text, so that <c>completed_at &lt; @cutoff</c> compares
    /// them in time order.
    /// </summary>
    private void AddTime(DbCommand command, string name, DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        switch (Dialect)
        {
            case CompletionDialect.Sqlite:
                Add(command, name, DbType.String, utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture));
                break;
            case CompletionDialect.PostgreSql:
                // Npgsql writes a DateTimeOffset of offset zero as timestamptz.
                Add(command, name, DbType.DateTimeOffset, new DateTimeOffset(utc));
                break;
            case CompletionDialect.SqlServer:
                Add(command, name, DbType.DateTime2, utc);
                break;
            default:
                Add(command, name, DbType.DateTime, utc);
                break;
        }
    }

    private static DateTimeOffset ReadTime(object value) => value switch
    {
        DateTimeOffset offset => offset,
        DateTime time => new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)),
        string text => DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal),
        _ => DateTimeOffset.MinValue,
    };

    private static bool IsValidName(string name)
    {
        var parts = name.Split('.');
        return parts.Length <= 2 && parts.All(part =>
            part.Length is > 0 and <= MaxIdentifierLength
            && !char.IsAsciiDigit(part[0])
            && part.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'));
    }

    /// <inheritdoc />
    public override string ToString() => TableName;
}
