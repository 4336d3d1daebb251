using System.Data;
using System.Data.Common;
using Cairn.DataSources;
using Cairn.Runs;
using Microsoft.Data.Sqlite;

namespace Cairn.Tests.DataSources;

/// <summary>
/// The completion table on its own: its SQL in each dialect, its name rules, telling the dialect from a connection, and
/// its rows written and read back on a SQLite file, with the times of each dialect.
/// </summary>
public sealed class CompletionTableTests : IDisposable
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private static readonly DateTimeOffset Noon = new(2026, 12, 3, 12, 0, 0, TimeSpan.FromHours(2));
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"cairn-completions-{Guid.NewGuid():N}.db");

    [Fact]
    public void CreateTableSql_InEachDialect_IsTheDocumentedStatement()
    {
        Assert.Equal(
            "CREATE TABLE IF NOT EXISTS cairn_stage_completions (run_id TEXT NOT NULL, stage_key TEXT NOT NULL, attempt INTEGER NOT NULL, state BLOB NOT NULL, outbox BLOB NULL, completed_at TEXT NOT NULL, PRIMARY KEY (run_id, stage_key));",
            new CompletionTable(CompletionDialect.Sqlite).CreateTableSql);
        Assert.Equal(
            "CREATE TABLE IF NOT EXISTS app.done (run_id text NOT NULL, stage_key text NOT NULL, attempt integer NOT NULL, state bytea NOT NULL, outbox bytea NULL, completed_at timestamptz NOT NULL, PRIMARY KEY (run_id, stage_key));",
            new CompletionTable(CompletionDialect.PostgreSql, "app.done").CreateTableSql);
        Assert.Equal(
            "IF OBJECT_ID(N'done', N'U') IS NULL CREATE TABLE done (run_id nvarchar(36) NOT NULL, stage_key nvarchar(400) NOT NULL, attempt int NOT NULL, state varbinary(max) NOT NULL, outbox varbinary(max) NULL, completed_at datetime2 NOT NULL, PRIMARY KEY (run_id, stage_key));",
            new CompletionTable(CompletionDialect.SqlServer, "done").CreateTableSql);
        Assert.Equal(
            "CREATE TABLE IF NOT EXISTS cairn_stage_completions (run_id varchar(36) NOT NULL, stage_key varchar(255) NOT NULL, attempt int NOT NULL, state longblob NOT NULL, outbox longblob NULL, completed_at datetime(6) NOT NULL, PRIMARY KEY (run_id, stage_key));",
            new CompletionTable(CompletionDialect.MySql).CreateTableSql);
    }

    [Fact]
    public void Constructor_KeepsTheDialectAndTheName_AndRefusesAnUnknownDialect()
    {
        var table = new CompletionTable(CompletionDialect.MySql, "app.done");

        Assert.Equal((CompletionDialect.MySql, "app.done", "app.done"), (table.Dialect, table.TableName, table.ToString()));
        Assert.Equal(CompletionTable.DefaultTableName, new CompletionTable(CompletionDialect.Sqlite).TableName);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new CompletionTable((CompletionDialect)42));
        Assert.Equal("dialect", error.ParamName);
    }

    [Theory]
    [InlineData("_done")]
    [InlineData("done_2")]
    [InlineData("app.done")]
    [InlineData("A23456789012345678901234567890123456789012345678901234567890123")]
    public void Constructor_AcceptsIdentifiersOfUpTo63Characters_OptionallySchemaQualified(string name)
    {
        Assert.Equal(name, new CompletionTable(CompletionDialect.PostgreSql, name).TableName);
    }

    [Theory]
    [InlineData("A234567890123456789012345678901234567890123456789012345678901234")]
    [InlineData("app.")]
    [InlineData(".done")]
    [InlineData("2done")]
    [InlineData("app.2done")]
    [InlineData("done table")]
    public void Constructor_RefusesOtherNames_SayingWhatANameMayHold(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => new CompletionTable(CompletionDialect.PostgreSql, name));

        Assert.Equal("tableName", error.ParamName);
        Assert.StartsWith(
            $"The completion table name '{name}' is invalid: use an identifier of letters, digits and '_' (not starting with a digit, at most 63 characters), optionally qualified by a schema: 'app.cairn_stage_completions'.",
            error.Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void DetectDialect_TellsTheFourProvidersByTheirConnectionTypes_AndRefusesOthers()
    {
        Assert.Equal(CompletionDialect.Sqlite, CompletionTable.DetectDialect(new SqliteConnection()));
        Assert.Equal(CompletionDialect.PostgreSql, CompletionTable.DetectDialect(new NpgsqlConnection()));
        Assert.Equal(CompletionDialect.SqlServer, CompletionTable.DetectDialect(new SqlConnection()));
        Assert.Equal(CompletionDialect.MySql, CompletionTable.DetectDialect(new MySqlConnection()));

        var error = Assert.Throws<NotSupportedException>(() => CompletionTable.DetectDialect(new OtherConnection()));
        Assert.Equal("The completion table's SQL dialect cannot be told from the connection type OtherConnection: pass a CompletionDialect.", error.Message);
    }

    [Fact]
    public void ApplicationDataSource_IsNamedAsGiven_ElseAfterWhereItPoints_ElseAfterItsDialect()
    {
        var named = new OtherDataSource("db.example");

        Assert.Equal("orders-db", new ApplicationDataSource(named, CompletionDialect.PostgreSql, name: "orders-db").Name);
        Assert.Equal(0, named.Connections);
        Assert.Equal("db.example", new ApplicationDataSource(named, CompletionDialect.PostgreSql).Name);
        Assert.Equal("PostgreSql", new ApplicationDataSource(new OtherDataSource(""), CompletionDialect.PostgreSql, "app.done").Name);
        Assert.Equal("app.done", new ApplicationDataSource(new OtherDataSource(""), CompletionDialect.PostgreSql, "app.done").Completions.TableName);
        Assert.Throws<NotSupportedException>(() => new ApplicationDataSource(new OtherDataSource("db.example")));
        Assert.Throws<NotSupportedException>(() => new ApplicationDataSource(new OtherDataSource("db.example"), name: "orders-db"));
        using var sqlite = SqliteFactory.Instance.CreateDataSource($"Data Source={_path}");
        var given = new ApplicationDataSource(sqlite, name: "orders-db");
        Assert.Equal(("orders-db", CompletionDialect.Sqlite), (given.Name, given.Completions.Dialect));
    }

    [Theory]
    [InlineData(CompletionDialect.Sqlite, "2026-12-03T10:00:00.0000000Z")]
    [InlineData(CompletionDialect.PostgreSql, "2026-12-03 10:00:00+00:00")]
    [InlineData(CompletionDialect.SqlServer, "2026-12-03 10:00:00")]
    [InlineData(CompletionDialect.MySql, "2026-12-03 10:00:00")]
    public async Task InsertAndFind_RoundTripACompletion_WithItsTimeInUtcAsTheDialectWritesIt(CompletionDialect dialect, string stored)
    {
        var table = new CompletionTable(dialect);
        await using var connection = await OpenAsync();
        var runId = RunId.New();
        var withOutbox = new StageCompletion(runId, "save", 3, [1, 2], [3], Noon);
        var without = new StageCompletion(runId, "ship:2", 4, [5], null, Noon);

        await table.InsertAsync(connection, null, withOutbox, Ct);
        await table.InsertAsync(connection, null, without, Ct);

        Assert.Equal(stored, await ScalarAsync(connection, "SELECT completed_at FROM cairn_stage_completions WHERE stage_key = 'save'"));
        var found = await table.FindAsync(connection, null, runId, "save", Ct);
        Assert.NotNull(found);
        Assert.Equal((runId, "save", 3, Noon), (found.RunId, found.StageKey, found.Attempt, found.CompletedAt));
        Assert.Equal(TimeSpan.Zero, found.CompletedAt.Offset);
        Assert.Equal([1, 2], found.State);
        Assert.Equal([3], found.Outbox!);
        var other = await table.FindAsync(connection, null, runId, "ship:2", Ct);
        Assert.NotNull(other);
        Assert.Equal((4, "05", null), (other.Attempt, Convert.ToHexString(other.State), other.Outbox));
        Assert.Null(await table.FindAsync(connection, null, runId, "pack", Ct));
        Assert.Null(await table.FindAsync(connection, null, RunId.New(), "save", Ct));
    }

    [Fact]
    public async Task Insert_ASecondCompletionOfTheSameStage_Fails()
    {
        var table = new CompletionTable(CompletionDialect.Sqlite);
        await using var connection = await OpenAsync();
        var completion = new StageCompletion(RunId.New(), "save", 1, [1], null, Noon);
        await table.InsertAsync(connection, null, completion, Ct);

        await Assert.ThrowsAnyAsync<DbException>(() => table.InsertAsync(connection, null, completion with { Attempt = 2 }, Ct));
    }

    [Fact]
    public async Task Deletes_TakeTheRunsRows_OrTheRowsOlderThanTheCutoff_AndCountThem()
    {
        var table = new CompletionTable(CompletionDialect.Sqlite);
        await using var connection = await OpenAsync();
        var (done, other) = (RunId.New(), RunId.New());
        await table.InsertAsync(connection, null, new StageCompletion(done, "a", 1, [1], null, Noon), Ct);
        await table.InsertAsync(connection, null, new StageCompletion(done, "b", 1, [1], null, Noon), Ct);
        await table.InsertAsync(connection, null, new StageCompletion(other, "old", 1, [1], null, Noon - TimeSpan.FromDays(8)), Ct);
        await table.InsertAsync(connection, null, new StageCompletion(other, "cutoff", 1, [1], null, Noon - TimeSpan.FromDays(7)), Ct);

        Assert.Equal(2, await table.DeleteRunAsync(connection, null, done, Ct));
        Assert.Equal(0, await table.DeleteRunAsync(connection, null, done, Ct));
        Assert.Equal(1, await table.DeleteOlderThanAsync(connection, null, Noon - TimeSpan.FromDays(7), Ct));
        Assert.Equal("cutoff", await ScalarAsync(connection, "SELECT group_concat(stage_key) FROM cairn_stage_completions"));
    }

    [Fact]
    public async Task Writes_InATransaction_AreUndoneWithIt()
    {
        var table = new CompletionTable(CompletionDialect.Sqlite);
        await using var connection = await OpenAsync();
        var runId = RunId.New();

        await using (var transaction = await connection.BeginTransactionAsync(Ct))
        {
            await table.InsertAsync(connection, transaction, new StageCompletion(runId, "save", 1, [1], null, Noon), Ct);
            Assert.NotNull(await table.FindAsync(connection, transaction, runId, "save", Ct));
            await transaction.RollbackAsync(Ct);
        }

        Assert.Null(await table.FindAsync(connection, null, runId, "save", Ct));
    }

    [Fact]
    public async Task EnsureCompletionTable_CreatesTheTableOnceForTheDataSource_AndTriesAgainAfterAFailure()
    {
        var source = new CreatingDataSource(new CompletionTable(CompletionDialect.Sqlite));
        await using var connection = await OpenAsync(create: false);
        await using (var closed = new SqliteConnection($"Data Source={_path}"))
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => source.EnsureAsync(closed));
        }

        await source.EnsureAsync(connection);
        Assert.Equal(1L, await ScalarAsync(connection, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'cairn_stage_completions'"));
        await ExecuteAsync(connection, "DROP TABLE cairn_stage_completions");
        await source.EnsureAsync(connection);

        Assert.Equal(0L, await ScalarAsync(connection, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'cairn_stage_completions'"));
    }

    [Fact]
    public async Task NullConnectionsAndBadDataSourceArguments_AreRefused()
    {
        Assert.Throws<ArgumentNullException>(() => CompletionTable.DetectDialect(null!));
        await Assert.ThrowsAsync<ArgumentNullException>(() => new CompletionTable(CompletionDialect.Sqlite).EnsureCreatedAsync(null!, Ct));
        Assert.Throws<ArgumentException>(() => new CreatingDataSource(new CompletionTable(CompletionDialect.Sqlite), " "));
        Assert.Throws<ArgumentNullException>(() => new CreatingDataSource(null!));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        foreach (var file in new[] { _path, $"{_path}-wal", $"{_path}-shm", $"{_path}-journal" })
        {
            File.Delete(file);
        }
    }

    private async Task<SqliteConnection> OpenAsync(bool create = true)
    {
        var connection = new SqliteConnection($"Data Source={_path}");
        await connection.OpenAsync(Ct);
        if (create)
        {
            await ExecuteAsync(connection, new CompletionTable(CompletionDialect.Sqlite).CreateTableSql);
        }

        return connection;
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(Ct);
    }

    private static async Task<object?> ScalarAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(Ct);
    }

    /// <summary>A data source that only creates its completion table, on the connection the test gives it.</summary>
    private sealed class CreatingDataSource(CompletionTable table, string name = "creating") : StageDataSource(name, table)
    {
        public Task EnsureAsync(DbConnection connection) => EnsureCompletionTableAsync(connection, Ct);

        protected internal override Task<StageUnitOfWork> BeginAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
    }

    /// <summary>A provider's data source that is never opened: it hands out connections that only tell their type and where they point.</summary>
    private sealed class OtherDataSource(string dataSource) : DbDataSource
    {
        public int Connections { get; private set; }

        public override string ConnectionString => "";

        protected override DbConnection CreateDbConnection()
        {
            Connections++;
            return new OtherConnection(dataSource);
        }
    }

    private class OtherConnection(string dataSource = "") : DbConnection
    {
        [System.Diagnostics.CodeAnalysis.AllowNull]
        public override string ConnectionString { get; set; } = "";

        public override string Database => "";

        public override string DataSource => dataSource;

        public override string ServerVersion => "";

        public override ConnectionState State => ConnectionState.Closed;

        public override void ChangeDatabase(string databaseName) => throw new NotSupportedException();

        public override void Close()
        {
        }

        public override void Open() => throw new NotSupportedException();

        protected override DbTransaction BeginDbTransaction(IsolationLevel isolationLevel) => throw new NotSupportedException();

        protected override DbCommand CreateDbCommand() => throw new NotSupportedException();
    }

    private sealed class NpgsqlConnection : OtherConnection;

    private sealed class SqlConnection : OtherConnection;

    private sealed class MySqlConnection : OtherConnection;
}
