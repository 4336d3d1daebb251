using System.Collections.Concurrent;
using System.Data;
using System.Data.Common;
using System.Text;
using Cairn.DataSources;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Serialization;
using Cairn.Storage;
using Cairn.Tests.Support;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace Cairn.Tests.DataSources;

/// <summary>
/// Stages bound to an application database of their own — a second SQLite file — while the engine runs on the in-memory
/// store: the stage's writes and its completion record commit together, and a recorded stage never runs again.
/// </summary>
public sealed class ApplicationDataSourceTests : EngineTest, IDisposable
{
    private static readonly JsonStateSerializer Serializer = new();
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"cairn-app-{Guid.NewGuid():N}.db");
    private readonly DbDataSource _database;
    private readonly ApplicationDataSource _source;
    private readonly ConcurrentQueue<OutboxMessage> _delivered = new();
    private int _saves;

    public ApplicationDataSourceTests(ITestOutputHelper output) : base(output)
    {
        _database = SqliteFactory.Instance.CreateDataSource($"Data Source={_path}");
        _source = new ApplicationDataSource(_database);
        Execute("CREATE TABLE orders (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, amount INTEGER NOT NULL)");
    }

    [Fact]
    public async Task TransactionalStage_CommitsItsWritesAndItsCompletionTogether_InTheApplicationDatabase()
    {
        long completionsDuringRun = -1;
        var flow = Flow.Create<TestState>("orders")
            .TransactionalStage("save", _source, SaveOrderAsync)
            .Stage("check", (c, _) =>
            {
                completionsDuringRun = Count($"SELECT COUNT(*) FROM cairn_stage_completions WHERE run_id = '{c.RunId}' AND stage_key = 'save' AND attempt = 1");
                return Task.CompletedTask;
            })
            .Build();
        var engine = CreateEngine(flow);

        var outcome = await Within(engine.RunAsync(flow, new TestState()));

        Assert.Equal(RunStatus.Completed, outcome.Status);
        Assert.Equal(42, outcome.Result!.Value);
        Assert.Equal(["save"], outcome.Result.Trace);
        Assert.Equal(1, completionsDuringRun);
        Assert.Equal(1, Count($"SELECT COUNT(*) FROM orders WHERE run_id = '{outcome.RunId}'"));
    }

    [Fact]
    public async Task AStageCommittedBeforeTheAttemptDied_IsNotRunAgain_ItsRecordedStateAndMessagesAreUsed()
    {
        var failures = 1;
        var flow = Flow.Create<TestState>("orders")
            .TransactionalStage("save", _source, SaveOrderAsync)
            .Stage("ship", (c, _) =>
            {
                c.State.Trace.Add("ship");
                return failures-- > 0 ? throw new IOException("carrier down") : Task.CompletedTask;
            })
            .Retry(p => p with { MaxRetries = 1, Interval = TimeSpan.FromSeconds(1) })
            .Build();
        var engine = CreateEngine(flow, build: b => b.AddOutboxPublisher("NewOrder", Record));

        var run = await engine.StartRunAsync(flow, new TestState());
        await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);
        Time.Advance(TimeSpan.FromSeconds(1));
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));

        Assert.Equal(RunStatus.Completed, outcome.Status);
        Assert.Equal(1, _saves);
        Assert.Equal(1, Count($"SELECT COUNT(*) FROM orders WHERE run_id = '{run.Id}'"));
        Assert.Equal(42, outcome.Result!.Value);
        Assert.Equal(["save", "ship"], outcome.Result.Trace);
        await WaitForDeliveriesAsync(1);
        Assert.Equal("{\"order\":42}", Encoding.UTF8.GetString(Assert.Single(_delivered).Payload.Span));
        Assert.Contains(Logs.GetSnapshot(), r => r.Id.Id == Cairn.Diagnostics.CairnEventId.StageCompletionFound && r.Message.Contains("by attempt 1 (found before running it); attempt 2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnAttemptThatLosesTheRaceToCommit_RollsBackItsWrites_AndTakesTheWinnersState()
    {
        var runId = default(RunId);
        var racing = new RacingDataSource(_source, async unit =>
        {
            // The zombie: an attempt that lost its lease committed the stage between this attempt's look-up and its commit.
            var state = Serializer.Serialize(new TestState { Value = 7, Trace = ["zombie"] });
            var outbox = Encoding.UTF8.GetBytes("[{\"destination\":\"NewOrder\",\"payload\":\"" + Convert.ToBase64String("{\"order\":7}"u8) + "\"}]");
            await _source.Completions.InsertAsync(unit.Connection, unit.Transaction, new StageCompletion(runId, "save", 1, state, outbox, Time.GetUtcNow()), Ct);
        });
        var flow = Flow.Create<TestState>("orders")
            .Stage("start", (c, _) =>
            {
                runId = c.RunId;
                return Task.CompletedTask;
            })
            .TransactionalStage("save", racing, SaveOrderAsync)
            .Stage("finish", (c, _) =>
            {
                c.State.Trace.Add("finish");
                return Task.CompletedTask;
            })
            .Build();
        var engine = CreateEngine(flow, build: b => b.AddOutboxPublisher("NewOrder", Record));

        var outcome = await Within(engine.RunAsync(flow, new TestState()));

        Assert.Equal(RunStatus.Completed, outcome.Status);
        Assert.Equal(1, _saves);
        Assert.Equal(0, Count("SELECT COUNT(*) FROM orders"));
        Assert.Equal(7, outcome.Result!.Value);
        Assert.Equal(["zombie", "finish"], outcome.Result.Trace);
        Assert.Contains(Logs.GetSnapshot(), r => r.Id.Id == Cairn.Diagnostics.CairnEventId.StageCompletionFound && r.Message.Contains("committed first by a racing attempt", StringComparison.Ordinal));
        await WaitForDeliveriesAsync(1);
        Assert.Equal("{\"order\":7}", Encoding.UTF8.GetString(Assert.Single(_delivered).Payload.Span));
    }

    [Fact]
    public async Task AFailingStage_RollsBackItsWrites_AndRecordsNoCompletion()
    {
        var flow = Flow.Create<TestState>("orders")
            .TransactionalStage("save", _source, async (c, transaction, ct) =>
            {
                await SaveOrderAsync(c, transaction, ct);
                throw new InvalidOperationException("validation failed");
            })
            .Retry(p => p with { MaxRetries = 0 })
            .Build();
        var engine = CreateEngine(flow);

        var outcome = await Within(engine.RunAsync(flow, new TestState()));

        Assert.Equal(RunStatus.Failed, outcome.Status);
        Assert.Contains("in stage 'save': InvalidOperationException: validation failed", (await GetRunAsync(outcome.RunId)).LastError, StringComparison.Ordinal);
        Assert.Equal(0, Count("SELECT COUNT(*) FROM orders"));
        Assert.Equal(0, Count("SELECT COUNT(*) FROM cairn_stage_completions"));
    }

    [Fact]
    public async Task ACompletionThatCannotBeInserted_ForAnotherReasonThanARace_FailsTheStage_AndRollsBackItsWrites()
    {
        var flow = Flow.Create<TestState>("orders")
            .TransactionalStage("save", _source, async (c, transaction, ct) =>
            {
                await SaveOrderAsync(c, transaction, ct);
                using var command = transaction.Connection!.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = "DROP TABLE cairn_stage_completions";
                await command.ExecuteNonQueryAsync(ct);
            })
            .Retry(p => p with { MaxRetries = 0 })
            .Build();
        var engine = CreateEngine(flow);

        var outcome = await Within(engine.RunAsync(flow, new TestState()));

        Assert.Equal(RunStatus.Failed, outcome.Status);
        Assert.StartsWith($"while committing stage 'save' to data source '{_path}': SqliteException:", (await GetRunAsync(outcome.RunId)).LastError, StringComparison.Ordinal);
        Assert.Equal(0, Count("SELECT COUNT(*) FROM orders"));
        Assert.Equal(0, Count("SELECT COUNT(*) FROM cairn_stage_completions"));
    }

    [Fact]
    public async Task ACompletedRun_DeletesItsCompletionRecords_InsideLoopsToo()
    {
        long duringRun = -1;
        var withCheck = Flow.Create<TestState>("orders-checked")
            .ForEach("each", _ => new[] { 1, 2, 3 }, body => body.TransactionalStage("save", _source, SaveOrderAsync))
            .Stage("check", (c, _) =>
            {
                duringRun = Count($"SELECT COUNT(*) FROM cairn_stage_completions WHERE run_id = '{c.RunId}' AND stage_key IN ('save:0', 'save:1', 'save:2')");
                return Task.CompletedTask;
            })
            .Build();
        var engine = CreateEngine(withCheck);

        var outcome = await Within(engine.RunAsync(withCheck, new TestState()));

        Assert.Equal(RunStatus.Completed, outcome.Status);
        Assert.Equal(3, duringRun);
        Assert.Equal(3, Count("SELECT COUNT(*) FROM orders"));
        Assert.Equal(0, Count("SELECT COUNT(*) FROM cairn_stage_completions"));
    }

    [Fact]
    public async Task AStageWithACompensation_SkippedOnALaterAttempt_IsStillCompensated()
    {
        var journal = new ConcurrentQueue<string>();
        var flow = Flow.Create<TestState>("orders")
            .TransactionalStage("reserve", _source, (c, t, ct) =>
            {
                journal.Enqueue("reserve");
                return SaveOrderAsync(c, t, ct);
            })
            .CompensateWith((c, _) =>
            {
                journal.Enqueue("release");
                return Task.CompletedTask;
            })
            .Stage("pay", (c, _) => throw new InvalidOperationException("card declined"))
            .Retry(p => p with { MaxRetries = 1, Interval = TimeSpan.FromSeconds(1) })
            .Build();
        var engine = CreateEngine(flow);

        var run = await engine.StartRunAsync(flow, new TestState());
        await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);
        Time.Advance(TimeSpan.FromSeconds(1));
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));

        Assert.Equal(RunStatus.Compensated, outcome.Status);
        Assert.Equal(["reserve", "release"], journal);
    }

    [Fact]
    public async Task ThePurge_DeletesCompletionRecordsOlderThanTheRetentionPeriod()
    {
        var flow = Flow.Create<TestState>("orders").TransactionalStage("save", _source, SaveOrderAsync).Build();
        await using (var unit = await _source.BeginAsync(Ct))
        {
            var state = Serializer.Serialize(new TestState());
            await _source.Completions.InsertAsync(unit.Connection, unit.Transaction, new StageCompletion(RunId.New(), "save", 1, state, null, Time.GetUtcNow() - TimeSpan.FromDays(8)), Ct);
            await _source.Completions.InsertAsync(unit.Connection, unit.Transaction, new StageCompletion(RunId.New(), "save", 1, state, null, Time.GetUtcNow() - TimeSpan.FromDays(6)), Ct);
            await unit.CommitAsync(Ct);
        }

        var engine = CreateEngine(flow, o => o.RetentionPeriod = TimeSpan.FromDays(7));
        await engine.StartAsync();

        var deadline = DateTime.UtcNow + Timeout;
        while (Count("SELECT COUNT(*) FROM cairn_stage_completions") != 1)
        {
            Assert.True(DateTime.UtcNow < deadline, "the purge did not delete the old completion in time");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task TheMigration_CreatesTheTable_AndRunsAgainHarmlessly_AndCreateTableSqlRunsByHand()
    {
        await using (var connection = await _database.OpenConnectionAsync(Ct))
        {
            await _source.Completions.EnsureCreatedAsync(connection, Ct);
            await _source.Completions.EnsureCreatedAsync(connection, Ct);
        }

        Assert.Equal(1, Count("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'cairn_stage_completions'"));

        var other = Path.Combine(Path.GetTempPath(), $"cairn-app-{Guid.NewGuid():N}.db");
        try
        {
            await using (var connection = new SqliteConnection($"Data Source={other}"))
            {
                await connection.OpenAsync(Ct);
                var table = new CompletionTable(CompletionDialect.Sqlite, "my_completions");
                using var command = connection.CreateCommand();
                command.CommandText = table.CreateTableSql;
                await command.ExecuteNonQueryAsync(Ct);
                command.CommandText = "SELECT group_concat(name, ',') FROM pragma_table_info('my_completions')";
                Assert.Equal("run_id,stage_key,attempt,state,outbox,completed_at", await command.ExecuteScalarAsync(Ct));
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            File.Delete(other);
        }
    }

    [Fact]
    public void TheDialect_IsToldFromTheConnection_AndTheTableNameIsValidated()
    {
        Assert.Equal(CompletionDialect.Sqlite, _source.Completions.Dialect);
        Assert.Equal(_path, _source.Name);
        Assert.Equal("app.cairn_stage_completions", new CompletionTable(CompletionDialect.PostgreSql, "app.cairn_stage_completions").TableName);
        Assert.Contains("IF OBJECT_ID(N'dbo.done', N'U') IS NULL CREATE TABLE dbo.done", new CompletionTable(CompletionDialect.SqlServer, "dbo.done").CreateTableSql, StringComparison.Ordinal);
        Assert.Contains("longblob", new CompletionTable(CompletionDialect.MySql).CreateTableSql, StringComparison.Ordinal);
        foreach (var bad in new[] { "", "1table", "a.b.c", "x; DROP TABLE orders", "a-b", "\"quoted\"" })
        {
            Assert.Throws<ArgumentException>(() => new CompletionTable(CompletionDialect.Sqlite, bad));
        }
    }

    [Fact]
    public void AStageBoundToADataSource_NeedsNoRecoveryPointAfterIt_ButIsRefusedInsideParallelBranches()
    {
        Flow.Create<TestState>("a").TransactionalStage("save", _source, SaveOrderAsync).Stage("next", (c, _) => Task.CompletedTask).Build();

        var error = Assert.Throws<FlowDefinitionException>(() => Flow.Create<TestState>("b")
            .Stage("first", (c, _) => Task.CompletedTask)
            .Parallel<TestState>("fan", p => p.Branch("one", s => s, body => body.TransactionalStage("save", _source, SaveOrderAsync)), (s, _) => { })
            .Build());
        Assert.Contains("transactional stage 'save' is inside parallel 'fan'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AUnitOfWork_DisposedWithoutACommit_RollsBackItsWrites_AndClosesItsTransactionAndConnection()
    {
        var tracking = new TrackingDataSource($"Data Source={_path}");
        var source = new ApplicationDataSource(tracking, name: "orders-db");
        DbTransaction transaction;

        await using (var unit = await source.BeginAsync(Ct))
        {
            transaction = unit.Transaction;
            // The first connection only told the constructor the provider's dialect; it was never opened.
            Assert.Same(tracking.Connections[^1], unit.Connection);
            await using var command = unit.Connection.CreateCommand();
            command.Transaction = unit.Transaction;
            command.CommandText = "INSERT INTO orders (run_id, amount) VALUES ('dropped', 1)";
            await command.ExecuteNonQueryAsync(Ct);
        }

        Assert.Equal("orders-db", source.Name);
        Assert.Null(transaction.Connection);
        Assert.Equal(ConnectionState.Closed, tracking.Connections[^1].State);
        Assert.Equal(0, Count("SELECT COUNT(*) FROM orders"));
    }

    [Fact]
    public async Task BeginAsync_WhenTheCompletionTableCannotBeCreated_FailsAndClosesTheConnection()
    {
        var tracking = new TrackingDataSource($"Data Source={_path}");
        var source = new ApplicationDataSource(tracking, tableName: "nowhere.completions");

        var error = await Assert.ThrowsAsync<SqliteException>(() => source.BeginAsync(Ct));

        Assert.Contains("nowhere", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, tracking.Connections.Count);
        Assert.Equal(ConnectionState.Closed, tracking.Connections[^1].State);
    }

    [Fact]
    public void Constructor_WithoutADataSource_IsRefused()
    {
        Assert.Throws<ArgumentNullException>(() => new ApplicationDataSource(null!));
    }

    private async Task SaveOrderAsync(StageContext<TestState> context, DbTransaction transaction, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _saves);
        using var command = transaction.Connection!.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO orders (run_id, amount) VALUES (@run, 42)";
        command.Parameters.Add(new SqliteParameter("@run", context.RunId.ToString()));
        await command.ExecuteNonQueryAsync(cancellationToken);
        context.State.Value = 42;
        context.State.Trace.Add("save");
        context.Outbox.Add("NewOrder", new { Order = 42 });
    }

    private Task Record(OutboxMessage message, CancellationToken cancellationToken)
    {
        _delivered.Enqueue(message);
        return Task.CompletedTask;
    }

    private async Task WaitForDeliveriesAsync(int count)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (_delivered.Count < count || (await Store.ListOutboxAsync(new OutboxQuery(), Ct)).Count > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the outbox did not deliver in time");
            await Task.Delay(10);
        }
    }

    private long Count(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={_path}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }

    private void Execute(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={_path}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        _database.Dispose();
        SqliteConnection.ClearAllPools();
        foreach (var file in new[] { _path, $"{_path}-wal", $"{_path}-shm", $"{_path}-journal" })
        {
            File.Delete(file);
        }
    }

    /// <summary>
    /// A data source whose second transaction (the stage's own, after the look-up) starts only once <paramref name="zombie"/>
    /// has committed a completion for the same stage in a transaction of its own: the race a node that lost its lease runs.
    /// </summary>
    private sealed class RacingDataSource(ApplicationDataSource inner, Func<StageUnitOfWork, Task> zombie)
        : StageDataSource("racing", inner.Completions)
    {
        private int _begun;

        protected internal override async Task<StageUnitOfWork> BeginAsync(CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _begun) == 2)
            {
                await using var unit = await inner.BeginAsync(cancellationToken);
                await zombie(unit);
                await unit.CommitAsync(cancellationToken);
            }

            return await inner.BeginAsync(cancellationToken);
        }
    }

    /// <summary>A SQLite data source that keeps every connection it hands out, for the test to look at afterwards.</summary>
    private sealed class TrackingDataSource(string connectionString) : DbDataSource
    {
        public List<SqliteConnection> Connections { get; } = [];

        public override string ConnectionString => connectionString;

        protected override DbConnection CreateDbConnection()
        {
            var connection = new SqliteConnection(connectionString);
            Connections.Add(connection);
            return connection;
        }
    }
}
