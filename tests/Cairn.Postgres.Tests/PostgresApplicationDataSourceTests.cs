using System.Text.Json;
using Cairn.DataSources;
using Cairn.Flows;
using Cairn.Runs;
using Npgsql;

namespace Cairn.Postgres.Tests;

/// <summary>
/// Stages bound to an application database of their own — a second database of the test cluster, reached through an
/// NpgsqlDataSource — while the engine's store lives in the cluster's <c>postgres</c> database.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresApplicationDataSourceTests(PostgresCluster cluster) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly string _database = $"app_{Guid.NewGuid():N}";
    private readonly string _schema = cluster.NewSchema("appsource");
    private readonly List<CairnEngine> _engines = [];
    private readonly List<PostgresRunStore> _stores = [];
    private NpgsqlDataSource? _application;
    private int _saves;

    private NpgsqlDataSource Application => _application!;

    public async Task InitializeAsync()
    {
        await cluster.ExecuteAsync($"CREATE DATABASE {_database}");
        _application = NpgsqlDataSource.Create(cluster.Server.ConnectionString(_database));
        await ExecuteAsync("CREATE SCHEMA app; CREATE TABLE app.orders (id serial PRIMARY KEY, run_id text NOT NULL, amount int NOT NULL)");
    }

    public async Task DisposeAsync()
    {
        foreach (var engine in _engines)
        {
            await engine.DisposeAsync();
        }

        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        await Application.DisposeAsync();
        await cluster.ExecuteAsync($"DROP DATABASE IF EXISTS {_database} WITH (FORCE)");
        await cluster.DropSchemaAsync(_schema);
    }

    [Fact]
    public async Task ApplicationDataSource_CommitsTheStagesWritesWithItsCompletion_AndDeletesItWhenTheRunCompletes()
    {
        var source = new ApplicationDataSource(Application, tableName: "app.cairn_stage_completions");
        long duringRun = -1;
        var flow = Flow.Create<Order>("pg-orders")
            .TransactionalStage("save", source, SaveOrderAsync)
            .Stage("check", async (c, ct) => duringRun = await CountAsync($"SELECT COUNT(*) FROM app.cairn_stage_completions WHERE run_id = '{c.RunId}' AND stage_key = 'save' AND attempt = 1"))
            .Build();
        var engine = await CreateEngineAsync(flow);

        var outcome = await engine.RunAsync(flow, new Order()).WaitAsync(Timeout);

        Assert.Equal(RunStatus.Completed, outcome.Status);
        Assert.Equal(CompletionDialect.PostgreSql, source.Completions.Dialect);
        Assert.Equal(1, duringRun);
        Assert.Equal(42, outcome.Result!.Amount);
        Assert.Equal(1, await CountAsync($"SELECT COUNT(*) FROM app.orders WHERE run_id = '{outcome.RunId}'"));
        Assert.Equal(0, await CountAsync("SELECT COUNT(*) FROM app.cairn_stage_completions"));
    }

    [Fact]
    public async Task ApplicationDataSource_AnAttemptThatLosesTheRace_RollsBackItsWrites_AndTakesTheWinnersState()
    {
        var source = new ApplicationDataSource(Application);
        var flow = Flow.Create<Order>("pg-race")
            .TransactionalStage("save", source, async (c, transaction, ct) =>
            {
                await SaveOrderAsync(c, transaction, ct);

                // The zombie: an attempt that lost its lease commits the same stage while this one is still in its transaction.
                await using var command = Application.CreateCommand(
                    "INSERT INTO cairn_stage_completions (run_id, stage_key, attempt, state, outbox, completed_at) VALUES (@run, 'save', 1, @state, NULL, now())");
                command.Parameters.AddWithValue("run", c.RunId.ToString());
                command.Parameters.AddWithValue("state", JsonSerializer.SerializeToUtf8Bytes(new Order { Amount = 7, Trace = ["zombie"] }));
                await command.ExecuteNonQueryAsync(ct);
            })
            .Stage("finish", (c, _) =>
            {
                c.State.Trace.Add("finish");
                return Task.CompletedTask;
            })
            .Build();
        var engine = await CreateEngineAsync(flow);

        var outcome = await engine.RunAsync(flow, new Order()).WaitAsync(Timeout);

        Assert.Equal(RunStatus.Completed, outcome.Status);
        Assert.Equal(1, _saves);
        Assert.Equal(0, await CountAsync("SELECT COUNT(*) FROM app.orders"));
        Assert.Equal(7, outcome.Result!.Amount);
        Assert.Equal(["zombie", "finish"], outcome.Result.Trace);
    }

    private async Task SaveOrderAsync(StageContext<Order> context, System.Data.Common.DbTransaction transaction, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _saves);
        await using var command = new NpgsqlCommand("INSERT INTO app.orders (run_id, amount) VALUES (@run, 42)", (NpgsqlConnection)transaction.Connection!, (NpgsqlTransaction)transaction);
        command.Parameters.AddWithValue("run", context.RunId.ToString());
        await command.ExecuteNonQueryAsync(cancellationToken);
        context.State.Amount = 42;
        context.State.Trace.Add("save");
    }

    private async Task<CairnEngine> CreateEngineAsync(FlowDefinition flow)
    {
        var store = new PostgresRunStore(new PostgresStoreOptions { ConnectionString = cluster.ConnectionString, Schema = _schema });
        await store.InitializeAsync(CancellationToken.None);
        var engine = CairnEngine.CreateBuilder().UseStore(store).Configure(o => o.RetentionPeriod = null).AddFlow(flow).Build();
        _engines.Add(engine);
        _stores.Add(store);
        return engine;
    }

    private async Task<long> CountAsync(string sql)
    {
        await using var command = Application.CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var command = Application.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    public sealed class Order
    {
        public int Amount { get; set; }

        public List<string> Trace { get; set; } = [];
    }
}
