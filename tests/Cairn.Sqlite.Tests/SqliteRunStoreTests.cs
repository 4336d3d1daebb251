using System.Collections.Concurrent;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Storage;
using Microsoft.Data.Sqlite;

namespace Cairn.Sqlite.Tests;

/// <summary>What the SQLite store does beyond the store contract: the file, its settings, its schema and its lock.</summary>
public sealed class SqliteRunStoreTests : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private readonly TemporaryDatabase _database = new();
    private readonly FakeTimeProvider _time = new();
    private readonly List<SqliteRunStore> _stores = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        _database.Delete();
    }

    [Fact]
    public async Task InitializeAsync_DefaultOptions_UsesWalJournalFullSynchronousAndForeignKeys()
    {
        var store = await OpenAsync();

        using var connection = store.OpenConnection();
        Assert.Equal("wal", Pragma(connection, "journal_mode"));
        Assert.Equal(2L, Pragma(connection, "synchronous"));
        Assert.Equal(1L, Pragma(connection, "foreign_keys"));
        Assert.Equal(5000L, Pragma(connection, "busy_timeout"));
    }

    [Fact]
    public async Task InitializeAsync_NormalDurability_UsesNormalSynchronous()
    {
        var store = await OpenAsync(o => o.Durability = SqliteDurability.Normal);

        using var connection = store.OpenConnection();
        Assert.Equal("wal", Pragma(connection, "journal_mode"));
        Assert.Equal(1L, Pragma(connection, "synchronous"));
    }

    [Fact]
    public async Task InitializeAsync_BusyTimeout_SetsSqliteBusyTimeout()
    {
        var store = await OpenAsync(o => o.BusyTimeout = TimeSpan.FromMilliseconds(1500));

        using var connection = store.OpenConnection();
        Assert.Equal(1500L, Pragma(connection, "busy_timeout"));
    }

    [Fact]
    public async Task InitializeAsync_NewDatabase_RecordsSchemaVersion()
    {
        var store = await OpenAsync();

        using var connection = store.OpenConnection();
        Assert.Equal(SqliteMigration.LatestVersion, Convert.ToInt32(Scalar(connection, "SELECT MAX(version) FROM cairn_schema")));
        Assert.Equal("0001_initial", Scalar(connection, "SELECT name FROM cairn_schema WHERE version = 1"));
        Assert.Equal(_time.GetUtcNow().UtcTicks, Scalar(connection, "SELECT applied_at FROM cairn_schema WHERE version = 1"));
        Assert.Equal(4L, Scalar(connection, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('runs', 'run_data', 'checkpoints', 'events')"));
    }

    [Fact]
    public async Task InitializeAsync_Twice_ChangesNothing()
    {
        var store = await OpenAsync();
        var run = (await store.CreateRunAsync(NewRun(), Ct)).Run;
        _time.Advance(TimeSpan.FromHours(1));

        await store.InitializeAsync(Ct);
        var second = await OpenAsync();

        using var connection = store.OpenConnection();
        Assert.Equal((long)SqliteMigration.All.Count, Scalar(connection, "SELECT COUNT(*) FROM cairn_schema"));
        Assert.Equal(_time.Start.UtcTicks, Scalar(connection, "SELECT MAX(applied_at) FROM cairn_schema"));
        Assert.Equal(run, await second.GetRunAsync(run.Id, Ct));
    }

    [Fact]
    public void Migrations_Embedded_AreNumberedFromOneWithoutGaps()
    {
        Assert.NotEmpty(SqliteMigration.All);
        Assert.Equal(Enumerable.Range(1, SqliteMigration.All.Count), SqliteMigration.All.Select(m => m.Version));
        // The migrations run inside one transaction, which a script of their own would break.
        Assert.All(SqliteMigration.All, m => Assert.DoesNotMatch(@"(?im)^\s*(BEGIN|COMMIT|END|ROLLBACK)\b", m.Sql));
    }

    [Fact]
    public async Task InitializeAsync_SchemaVersion2_MigratesToTheLatest_KeepsItsRuns_WhichThenUseTheOutboxAndCompensation()
    {
        // A file as Cairn with schema version 2 left it: only the old migrations, and a run waiting for a retry after one checkpoint.
        var runId = RunId.New();
        var key = runId.Value.ToString("N");
        var ticks = _time.GetUtcNow().UtcTicks;
        using (var old = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _database.Path, Pooling = false }.ToString()))
        {
            old.Open();
            Execute(old, "CREATE TABLE cairn_schema (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
            foreach (var migration in SqliteMigration.All.Where(m => m.Version <= 2))
            {
                Execute(old, migration.Sql);
                Execute(old, $"INSERT INTO cairn_schema (version, name, applied_at) VALUES ({migration.Version}, '{migration.Name}', 0)");
            }

            Execute(old,
                "INSERT INTO runs (run_id, flow_name, flow_version, recovery_id, status, attempt, created_at, updated_at, due_at, lease_epoch, " +
                "position, last_recovery_point, status_message, checkpoint_sequence, input_checksum, settings) " +
                $"VALUES ('{key}', 'orders', 1, 'order-42', 2, 1, {ticks}, {ticks}, {ticks}, 1, '1', 'point-1', 'step 1 done', 1, 'sha256:0', '{{}}'); " +
                $"INSERT INTO run_data (run_id, input) VALUES ('{key}', x'7B7D'); " +
                "INSERT INTO checkpoints (run_id, sequence, position, recovery_point, status_message, checksum, created_at, state) " +
                $"VALUES ('{key}', 1, '1', 'point-1', 'step 1 done', 'sha256:1', {ticks}, x'7B7D'); " +
                $"INSERT INTO events (run_id, time, kind, attempt, message, recovery_point) VALUES ('{key}', {ticks}, 0, 1, 'run created', NULL)");
        }

        var store = await OpenAsync();

        using (var connection = store.OpenConnection())
        {
            Assert.Equal((long)SqliteMigration.LatestVersion, Scalar(connection, "SELECT MAX(version) FROM cairn_schema"));
            Assert.Equal("0003_outbox_compensation", Scalar(connection, "SELECT name FROM cairn_schema WHERE version = 3"));
            Assert.Equal("0004_flows", Scalar(connection, "SELECT name FROM cairn_schema WHERE version = 4"));
        }

        var run = await store.GetRunAsync(runId, Ct);
        Assert.Equal((RunStatus.WaitingForRetry, "point-1", 1L), (run!.Status, run.LastRecoveryPoint, run.CheckpointSequence));
        var recovery = await store.GetRecoveryDataAsync(runId, Ct);
        Assert.Equal("{}"u8.ToArray(), recovery.Input!.Value.ToArray());
        Assert.Equal((1L, "point-1", (string?)null), (recovery.Checkpoint!.Sequence, recovery.Checkpoint.RecoveryPoint, recovery.Checkpoint.Compensation));
        Assert.Single(await store.GetEventsAsync(runId, Ct));

        var claimed = Assert.Single(await store.ClaimDueRunsAsync(new ClaimRequest("node-a", ["orders"], 1, TimeSpan.FromSeconds(30)), Ct));
        var message = new OutboxMessage(StoreRules.OutboxMessageId(runId, 2, 0), runId, 2, 0, "orders", "{}"u8.ToArray());
        await store.SaveCheckpointAsync(claimed.Lease,
            new Checkpoint(2, FlowPath.Of(2), "point-2", null, "{}"u8.ToArray(), "sha256:2") { Outbox = [message], Compensation = "undo" }, keep: 3, Ct);
        Assert.Equal(message.Id, Assert.Single(await store.ListOutboxAsync(new OutboxQuery(), Ct)).Id);
        Assert.Equal("undo", (await store.GetRecoveryDataAsync(runId, Ct)).Checkpoint!.Compensation);
    }

    [Fact]
    public async Task InitializeAsync_NewerSchemaVersion_ThrowsStoreUnavailableNamingFileAndVersions()
    {
        var store = await OpenAsync();
        using (var connection = store.OpenConnection())
        {
            Execute(connection, "INSERT INTO cairn_schema (version, name, applied_at) VALUES (99, '0099_future', 0)");
        }

        var newer = Create();
        var error = await Assert.ThrowsAsync<StoreUnavailableException>(() => newer.InitializeAsync(Ct));

        Assert.Contains(_database.Path, error.Message, StringComparison.Ordinal);
        Assert.Contains("schema version 99", error.Message, StringComparison.Ordinal);
        Assert.Contains($"up to {SqliteMigration.LatestVersion}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InitializeAsync_NotADatabase_ThrowsStoreUnavailableNamingFileAndSqliteError()
    {
        await File.WriteAllTextAsync(_database.Path, string.Concat(Enumerable.Repeat("these are not the pages you are looking for\n", 200)));
        var store = Create();

        var error = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.InitializeAsync(Ct));

        Assert.Contains(_database.Path, error.Message, StringComparison.Ordinal);
        Assert.Contains("file is not a database", error.Message, StringComparison.Ordinal);
        Assert.IsType<SqliteException>(error.InnerException);
    }

    [Fact]
    public async Task InitializeAsync_MissingFolder_ThrowsStoreUnavailable()
    {
        var path = Path.Combine(Path.GetTempPath(), $"cairn-missing-{Guid.NewGuid():N}", "cairn.db");
        var store = new SqliteRunStore(new SqliteStoreOptions { Path = path });
        _stores.Add(store);

        var error = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.InitializeAsync(Ct));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AcquireWorkerLockAsync_HeldByAnotherStoreOnTheFile_ThrowsStoreUnavailableUntilReleased()
    {
        var first = await OpenAsync();
        var second = await OpenAsync();
        var held = await first.AcquireWorkerLockAsync("node-a", Ct);
        Assert.NotNull(held);

        var error = await Assert.ThrowsAsync<StoreUnavailableException>(async () => await second.AcquireWorkerLockAsync("node-b", Ct));
        Assert.Equal(
            $"Another Cairn engine is already running on '{_database.Path}' (lock file '{_database.Path}.lock' is held). Stop it first, or use the PostgreSQL store to run several engines.",
            error.Message);
        await Assert.ThrowsAsync<StoreUnavailableException>(async () => await first.AcquireWorkerLockAsync("node-a", Ct));

        await held.DisposeAsync();
        var taken = await second.AcquireWorkerLockAsync("node-b", Ct);
        Assert.NotNull(taken);
        await taken.DisposeAsync();
    }

    [Fact]
    public async Task AcquireWorkerLockAsync_Held_WritesOwnerAndProcessIdIntoLockFile()
    {
        var store = await OpenAsync();

        var held = await store.AcquireWorkerLockAsync("node-a", Ct);
        Assert.NotNull(held);
        await held.DisposeAsync();

        Assert.Equal($"node-a\npid {Environment.ProcessId}\n", await File.ReadAllTextAsync(_database.Path + ".lock"));
    }

    [Fact]
    public async Task Store_ClosedAndReopened_KeepsRunsCheckpointsAndEvents()
    {
        var store = await OpenAsync();
        var run = (await store.CreateRunAsync(NewRun(), Ct)).Run;
        var claimed = Assert.Single(await store.ClaimDueRunsAsync(new ClaimRequest("node-a", ["orders"], 1, TimeSpan.FromMinutes(1)), Ct));
        await store.SaveCheckpointAsync(claimed.Lease, new Checkpoint(1, FlowPath.Of(1), "after-select", "SELECT successful", new byte[] { 1, 2, 3 }, "sha256:x"), 3, Ct);
        var before = await store.GetRunAsync(run.Id, Ct);
        var events = await store.GetEventsAsync(run.Id, Ct);
        await store.DisposeAsync();

        var reopened = await OpenAsync();

        Assert.Equal(before, await reopened.GetRunAsync(run.Id, Ct));
        Assert.Equal(events, await reopened.GetEventsAsync(run.Id, Ct));
        var data = await reopened.GetRecoveryDataAsync(run.Id, Ct);
        Assert.Equal(new byte[] { 1, 2, 3 }, data.Checkpoint?.State.ToArray());
        Assert.Equal("{}"u8.ToArray(), data.Input?.ToArray());
        await reopened.SaveCheckpointAsync(claimed.Lease, new Checkpoint(2, FlowPath.Of(2), "after-insert", null, new byte[] { 4 }, "sha256:y"), 3, Ct);
        Assert.Equal(2, (await reopened.GetRunAsync(run.Id, Ct))?.CheckpointSequence);
    }

    [Fact]
    public async Task ClaimDueRunsAsync_TwoStoresOnOneFile_NeverClaimARunTwice()
    {
        // Two store instances stand for two processes (an engine and a CLI): they share no in-process lock, only SQLite's.
        var first = await OpenAsync();
        var second = await OpenAsync();
        for (var i = 0; i < 60; i++)
        {
            await first.CreateRunAsync(NewRun($"r{i}"), Ct);
        }

        var claims = new ConcurrentBag<RunId>();
        var claimers = new[] { first, second, first, second }.Select((store, n) => Task.Run(async () =>
        {
            while (await store.ClaimDueRunsAsync(new ClaimRequest($"node-{n}", ["orders"], 3, TimeSpan.FromMinutes(1)), Ct) is { Count: > 0 } batch)
            {
                foreach (var claim in batch)
                {
                    claims.Add(claim.Run.Id);
                }
            }
        }));
        await Task.WhenAll(claimers);

        Assert.Equal(60, claims.Count);
        Assert.Equal(60, claims.Distinct().Count());
    }

    [Fact]
    public async Task SaveCheckpointAsync_StaleLease_LeavesNoCheckpointRowBehind()
    {
        var store = await OpenAsync();
        var run = (await store.CreateRunAsync(NewRun(), Ct)).Run;
        var claimed = Assert.Single(await store.ClaimDueRunsAsync(new ClaimRequest("node-a", ["orders"], 1, TimeSpan.FromMinutes(1)), Ct));
        await store.CancelRunAsync(run.Id, "cancelled", Ct);

        await Assert.ThrowsAsync<RunOwnershipLostException>(() =>
            store.SaveCheckpointAsync(claimed.Lease, new Checkpoint(1, FlowPath.Of(1), "p", null, new byte[] { 1 }, "c"), 3, Ct));

        using var connection = store.OpenConnection();
        Assert.Equal(0L, Scalar(connection, "SELECT COUNT(*) FROM checkpoints"));
        Assert.Equal(0L, Scalar(connection, "SELECT COUNT(*) FROM events WHERE kind = 2"));
    }

    [Fact]
    public void Constructor_MissingPath_ThrowsArgumentException()
    {
        var error = Assert.Throws<ArgumentException>(() => new SqliteRunStore(new SqliteStoreOptions { Path = " " }));

        Assert.Equal("options", error.ParamName);
        Assert.Contains("SqliteStoreOptions.Path is required", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(":memory:")]
    [InlineData("file:cairn.db?mode=memory")]
    public void Constructor_InMemoryOrUriPath_ThrowsArgumentException(string path)
    {
        var error = Assert.Throws<ArgumentException>(() => new SqliteRunStore(new SqliteStoreOptions { Path = path }));

        Assert.Contains("plain file path", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Constructor_NonPositiveBusyTimeout_ThrowsArgumentException(int milliseconds)
    {
        var options = new SqliteStoreOptions { Path = _database.Path, BusyTimeout = TimeSpan.FromMilliseconds(milliseconds) };

        var error = Assert.Throws<ArgumentException>(() => new SqliteRunStore(options));

        Assert.Contains("SqliteStoreOptions.BusyTimeout must be positive", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_UndefinedDurability_ThrowsArgumentException()
    {
        var options = new SqliteStoreOptions { Path = _database.Path, Durability = (SqliteDurability)7 };

        var error = Assert.Throws<ArgumentException>(() => new SqliteRunStore(options));

        Assert.Contains("SqliteStoreOptions.Durability", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_Defaults_AreFullDurabilityFiveSecondsAndSystemClock()
    {
        var options = new SqliteStoreOptions { Path = "cairn.db" };

        Assert.Equal(SqliteDurability.Full, options.Durability);
        Assert.Equal(TimeSpan.FromSeconds(5), options.BusyTimeout);
        Assert.Same(TimeProvider.System, options.TimeProvider);
    }

    private SqliteRunStore Create(Action<SqliteStoreOptions>? configure = null)
    {
        var options = new SqliteStoreOptions { Path = _database.Path, TimeProvider = _time };
        configure?.Invoke(options);
        var store = new SqliteRunStore(options);
        _stores.Add(store);
        return store;
    }

    private async Task<SqliteRunStore> OpenAsync(Action<SqliteStoreOptions>? configure = null)
    {
        var store = Create(configure);
        await store.InitializeAsync(Ct);
        return store;
    }

    private static NewRun NewRun(string recoveryId = "order-42") =>
        new(RunId.New(), "orders", 1, recoveryId, "{}"u8.ToArray(), "sha256:0", "{}");

    private static object? Pragma(SqliteConnection connection, string name) => Scalar(connection, $"PRAGMA {name}");

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
