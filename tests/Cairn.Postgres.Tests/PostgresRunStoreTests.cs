using Cairn.Flows;
using Cairn.Runs;
using Cairn.Storage;

namespace Cairn.Postgres.Tests;

/// <summary>The PostgreSQL store's own behaviour: schema and migrations, options, and the database's clock.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresRunStoreTests(PostgresCluster cluster) : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private readonly List<PostgresRunStore> _stores = [];
    private readonly List<string> _schemas = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        foreach (var schema in _schemas)
        {
            await cluster.DropSchemaAsync(schema);
        }
    }

    [Theory]
    [InlineData("", 20, 32)]
    [InlineData(";Maximum Pool Size=7;Max Auto Prepare=0", 7, 0)]
    [InlineData(";MaxPoolSize=9", 9, 32)]
    public async Task Constructor_ConnectionString_LimitsPoolAndPreparesStatementsUnlessItSaysOtherwise(string extra, int maxPoolSize, int maxAutoPrepare)
    {
        await using var store = new PostgresRunStore(new PostgresStoreOptions { ConnectionString = cluster.ConnectionString + extra, Schema = NewSchema() });

        var settings = new Npgsql.NpgsqlConnectionStringBuilder(store.DataSource.ConnectionString);
        Assert.Equal(maxPoolSize, settings.MaxPoolSize);
        Assert.Equal(maxAutoPrepare, settings.MaxAutoPrepare);
    }

    [Fact]
    public async Task InitializeAsync_Twice_IsANoOpThatKeepsData()
    {
        var schema = NewSchema();
        var store = Open(schema);
        await store.InitializeAsync(Ct);
        var run = (await store.CreateRunAsync(NewRun(), Ct)).Run;

        await store.InitializeAsync(Ct);
        await Open(schema).InitializeAsync(Ct);

        Assert.Equal(PostgresMigration.LatestVersion, await VersionRowsAsync(schema));
        Assert.Equal(run, await store.GetRunAsync(run.Id, Ct));
    }

    [Fact]
    public async Task InitializeAsync_StoresStartingTogether_MigrateOnce()
    {
        var schema = NewSchema();
        var stores = Enumerable.Range(0, 6).Select(_ => Open(schema, ownPool: true)).ToList();

        await Task.WhenAll(stores.Select(store => Task.Run(() => store.InitializeAsync(Ct))));

        Assert.Equal(PostgresMigration.LatestVersion, await VersionRowsAsync(schema));
        var created = await stores[0].CreateRunAsync(NewRun(), Ct);
        Assert.Equal(created.Run, await stores[^1].GetRunAsync(created.Run.Id, Ct));
    }

    [Fact]
    public async Task InitializeAsync_SchemaOption_KeepsEveryTableInThatSchema()
    {
        var schema = NewSchema("tenant");
        var store = Open(schema);

        await store.InitializeAsync(Ct);
        var run = (await store.CreateRunAsync(NewRun(), Ct)).Run;

        var tables = await cluster.ScalarAsync<string[]>(
            "SELECT array_agg(table_name::text ORDER BY table_name) FROM information_schema.tables WHERE table_schema = @schema", ("schema", schema));
        Assert.Equal(["checkpoints", "events", "flows", "outbox", "run_data", "runs", "schedules", "schema_version", "signals", "stream_chunks", "stream_contents", "stream_uploads"], tables);
        Assert.Equal(1L, await cluster.ScalarAsync<long>($"SELECT count(*) FROM \"{schema}\".runs WHERE run_id = @id", ("id", run.Id.Value)));
        Assert.False(await cluster.ScalarAsync<bool>("SELECT to_regclass('public.runs') IS NOT NULL OR to_regclass('cairn.runs') IS NOT NULL"));
    }

    [Fact]
    public async Task InitializeAsync_TablesARunWritesAtEveryStep_HaveNoForeignKeys()
    {
        // Migration 0008: the checks cost a query per row; only the rarely written signals keep theirs.
        var schema = NewSchema();
        await Open(schema).InitializeAsync(Ct);

        var referencing = await cluster.ScalarAsync<string[]>(
            "SELECT array_agg(c.conrelid::regclass::text ORDER BY c.conrelid::regclass::text) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace " +
            "WHERE c.contype = 'f' AND n.nspname = @schema", ("schema", schema));
        Assert.Equal([$"{schema}.signals"], referencing);
    }

    [Fact]
    public async Task InitializeAsync_SchemaOfNewerCairn_ThrowsStoreUnavailableNamingBothVersions()
    {
        var schema = NewSchema();
        await Open(schema).InitializeAsync(Ct);
        await cluster.ExecuteAsync($"INSERT INTO \"{schema}\".schema_version (version, name, applied_at) VALUES (999, '0999_future', now())");

        var error = await Assert.ThrowsAsync<StoreUnavailableException>(() => Open(schema).InitializeAsync(Ct));

        Assert.Contains("schema version 999", error.Message, StringComparison.Ordinal);
        Assert.Contains($"up to {PostgresMigration.LatestVersion}", error.Message, StringComparison.Ordinal);
        Assert.Contains(schema, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Cairn")]
    [InlineData("1cairn")]
    [InlineData("pg_cairn")]
    [InlineData("cairn; DROP TABLE x")]
    [InlineData("cairn\"")]
    public void Constructor_InvalidSchemaName_ThrowsArgumentException(string schema)
    {
        var error = Assert.Throws<ArgumentException>(() => new PostgresRunStore(new PostgresStoreOptions { ConnectionString = cluster.ConnectionString, Schema = schema }));

        Assert.Contains("Schema", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65)]
    public void Constructor_GroupCommitSizeOutOfRange_ThrowsArgumentException(int size)
    {
        var error = Assert.Throws<ArgumentException>(() => new PostgresRunStore(new PostgresStoreOptions { ConnectionString = cluster.ConnectionString, MaxGroupCommitSize = size }));

        Assert.Contains("MaxGroupCommitSize", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_NeitherOrBothConnectionSettings_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => new PostgresRunStore(new PostgresStoreOptions()));
        Assert.Throws<ArgumentException>(() => new PostgresRunStore(new PostgresStoreOptions { ConnectionString = cluster.ConnectionString, DataSource = cluster.DataSource }));
        Assert.Throws<ArgumentException>(() => new PostgresRunStore(new PostgresStoreOptions { ConnectionString = "Hots=x" }));
    }

    [Fact]
    public async Task DisposeAsync_CallersDataSource_StaysUsable()
    {
        var store = Open(NewSchema());
        await store.InitializeAsync(Ct);

        await store.DisposeAsync();

        Assert.Equal(1, await cluster.ScalarAsync<int>("SELECT 1"));
    }

    [Fact]
    public async Task Times_WithoutTestClock_ComeFromTheDatabaseClock()
    {
        var store = Open(NewSchema(), testClock: null);
        await store.InitializeAsync(Ct);
        var before = await cluster.ScalarAsync<DateTime>("SELECT now()");

        var run = (await store.CreateRunAsync(NewRun(), Ct)).Run;
        var claimed = Assert.Single(await store.ClaimDueRunsAsync(new ClaimRequest("node-a", ["orders"], 1, TimeSpan.FromSeconds(42)), Ct));
        await store.TransitionAsync(claimed.Lease, new RunTransition(RunStatus.WaitingForRetry, RunEventKind.RetryScheduled, "retry") { RetryAfter = TimeSpan.FromMinutes(5) }, Ct);

        var after = await cluster.ScalarAsync<DateTime>("SELECT now()");
        Assert.InRange(run.CreatedAt.UtcDateTime, before, after);
        Assert.Equal(claimed.Run.UpdatedAt + TimeSpan.FromSeconds(42), claimed.Run.LeaseExpiresAt);
        var waiting = await store.GetRunAsync(run.Id, Ct);
        Assert.Equal(waiting!.UpdatedAt + TimeSpan.FromMinutes(5), waiting.DueAt);
        Assert.InRange(waiting.UpdatedAt.UtcDateTime, before, after);
        Assert.Empty(await store.ClaimDueRunsAsync(new ClaimRequest("node-a", ["orders"], 1, TimeSpan.FromSeconds(42)), Ct));
    }

    [Fact]
    public async Task UsePostgres_Engine_RunsAFlowToCompletion()
    {
        var schema = NewSchema("engine");
        var flow = Flow.Create<List<string>>("two-stages")
            .Stage("one", (context, _) =>
            {
                context.State.Add("one");
                return Task.CompletedTask;
            })
            .RecoveryPoint("after-one", "one done")
            .Stage("two", (context, _) =>
            {
                context.State.Add("two");
                return Task.CompletedTask;
            })
            .Build();
        await using var engine = CairnEngine.CreateBuilder()
            .UsePostgres(cluster.ConnectionString, options => options.Schema = schema)
            .AddFlow(flow)
            .Build();

        var outcome = await engine.RunAsync(flow, [], recoveryId: "order-42").WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(RunStatus.Completed, outcome.Status);
        Assert.Equal(["one", "two"], outcome.Result);
        var events = await engine.Store.GetEventsAsync(outcome.RunId, Ct);
        Assert.Equal(
            [RunEventKind.Created, RunEventKind.Started, RunEventKind.RecoveryPointPassed, RunEventKind.Completed],
            events.Select(e => e.Kind));
    }

    private string NewSchema(string prefix = "store")
    {
        var schema = cluster.NewSchema(prefix);
        _schemas.Add(schema);
        return schema;
    }

    private PostgresRunStore Open(string schema, bool ownPool = false, Func<DateTimeOffset>? testClock = null)
    {
        var options = ownPool
            ? new PostgresStoreOptions { ConnectionString = cluster.ConnectionString }
            : new PostgresStoreOptions { DataSource = cluster.DataSource };
        options.Schema = schema;
        options.TestClock = testClock;
        var store = new PostgresRunStore(options);
        _stores.Add(store);
        return store;
    }

    private Task<long> VersionRowsAsync(string schema) => cluster.ScalarAsync<long>($"SELECT count(*) FROM \"{schema}\".schema_version");

    private static NewRun NewRun() => new(RunId.New(), "orders", 1, Guid.NewGuid().ToString("N"), new byte[] { 1, 2, 3 }, "c", "{}");
}
