using Cairn.DataSources;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Cairn.EntityFrameworkCore.Tests;

/// <summary>Stages that write through an EF Core context on a SQLite file of their own, the engine on the in-memory store.</summary>
public sealed class DbContextDataSourceTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"cairn-ef-{Guid.NewGuid():N}.db");
    private readonly FakeTimeProvider _time = new();
    private readonly List<CairnEngine> _engines = [];
    private readonly DbContextOptions<OrdersContext> _options;
    private readonly DbContextDataSource<OrdersContext> _source;
    private int _saves;

    public DbContextDataSourceTests()
    {
        _options = new DbContextOptionsBuilder<OrdersContext>().UseSqlite($"Data Source={_path}").Options;
        _source = new DbContextDataSource<OrdersContext>(() => new OrdersContext(_options));
    }

    private InMemoryRunStore Store => field ??= new InMemoryRunStore(_time);

    [Fact]
    public async Task TheContextsChanges_AndTheCompletion_CommitTogether()
    {
        long completions = -1;
        var flow = Flow.Create<OrderState>("orders")
            .TransactionalStage("save", _source, SaveOrderAsync)
            .Stage("check", (c, _) =>
            {
                completions = Count($"SELECT COUNT(*) FROM cairn_stage_completions WHERE run_id = '{c.RunId}' AND stage_key = 'save'");
                return Task.CompletedTask;
            })
            .Build();
        var engine = CreateEngine(flow);

        var outcome = await engine.RunAsync(flow, new OrderState()).WaitAsync(Timeout);

        Assert.Equal(RunStatus.Completed, outcome.Status);
        Assert.Equal(1, completions);
        Assert.Equal(0, Count("SELECT COUNT(*) FROM cairn_stage_completions"));
        await using var db = new OrdersContext(_options);
        var order = Assert.Single(await db.Orders.ToListAsync());
        Assert.Equal((outcome.RunId.ToString(), 42), (order.RunId, order.Amount));
        Assert.Equal(CompletionDialect.Sqlite, _source.Completions.Dialect);
        Assert.Equal(nameof(OrdersContext), _source.Name);
    }

    [Fact]
    public async Task AStageCommittedBeforeALaterStageFailed_IsNotRunAgainOnTheRetry()
    {
        var failures = 1;
        var flow = Flow.Create<OrderState>("orders")
            .TransactionalStage("save", _source, SaveOrderAsync)
            .Stage("ship", (c, _) =>
            {
                c.State.Trace.Add("ship");
                return failures-- > 0 ? throw new IOException("carrier down") : Task.CompletedTask;
            })
            .Retry(p => p with { MaxRetries = 1, Interval = TimeSpan.FromSeconds(1) })
            .Build();
        var engine = CreateEngine(flow);

        var run = await engine.StartRunAsync(flow, new OrderState());
        var deadline = DateTime.UtcNow + Timeout;
        while ((await Store.GetRunAsync(run.Id, CancellationToken.None))!.Status != RunStatus.WaitingForRetry)
        {
            Assert.True(DateTime.UtcNow < deadline, "the run did not wait for its retry in time");
            await Task.Delay(10);
        }

        _time.Advance(TimeSpan.FromSeconds(1));
        var outcome = await engine.WaitForRunAsync(flow, run.Id).WaitAsync(Timeout);

        Assert.Equal(RunStatus.Completed, outcome.Status);
        Assert.Equal(1, _saves);
        Assert.Equal(1, Count("SELECT COUNT(*) FROM Orders"));
        Assert.Equal(42, outcome.Result!.Amount);
        Assert.Equal(["save", "ship"], outcome.Result.Trace);
    }

    [Fact]
    public async Task AFailingStage_SavesNothing_AndRecordsNoCompletion()
    {
        var flow = Flow.Create<OrderState>("orders")
            .TransactionalStage("save", _source, async (c, db, ct) =>
            {
                await SaveOrderAsync(c, db, ct);
                await db.SaveChangesAsync(ct);
                throw new InvalidOperationException("validation failed");
            })
            .Retry(p => p with { MaxRetries = 0 })
            .Build();
        var engine = CreateEngine(flow);

        var outcome = await engine.RunAsync(flow, new OrderState()).WaitAsync(Timeout);

        Assert.Equal(RunStatus.Failed, outcome.Status);
        Assert.Equal(0, Count("SELECT COUNT(*) FROM Orders"));
        Assert.Equal(0, Count("SELECT COUNT(*) FROM cairn_stage_completions"));
    }

    [Fact]
    public async Task AFactoryMadeDataSource_WorksInsideLoops()
    {
        var source = new DbContextDataSource<OrdersContext>(new Factory(_options), CompletionDialect.Sqlite, "app_completions", "orders-db");
        var flow = Flow.Create<OrderState>("orders")
            .ForEach("each", _ => new[] { 1, 2 }, body => body.TransactionalStage("save", source, SaveOrderAsync))
            .Build();
        var engine = CreateEngine(flow);

        var outcome = await engine.RunAsync(flow, new OrderState()).WaitAsync(Timeout);

        Assert.Equal(RunStatus.Completed, outcome.Status);
        Assert.Equal(2, Count("SELECT COUNT(*) FROM Orders"));
        Assert.Equal(0, Count("SELECT COUNT(*) FROM app_completions"));
        Assert.Equal("orders-db", source.Name);
    }

    private Task SaveOrderAsync(StageContext<OrderState> context, OrdersContext db, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _saves);
        db.Orders.Add(new Order { RunId = context.RunId.ToString(), Amount = 42 });
        context.State.Amount = 42;
        context.State.Trace.Add("save");
        return Task.CompletedTask;
    }

    private CairnEngine CreateEngine(FlowDefinition flow)
    {
        var engine = CairnEngine.CreateBuilder()
            .UseStore(Store)
            .UseTimeProvider(_time)
            .Configure(o => o.RetentionPeriod = null)
            .AddFlow(flow)
            .Build();
        _engines.Add(engine);
        return engine;
    }

    private long Count(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={_path}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }

    public async Task InitializeAsync()
    {
        await using var db = new OrdersContext(_options);
        await db.Database.EnsureCreatedAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var engine in _engines)
        {
            await engine.DisposeAsync().AsTask().WaitAsync(Timeout);
        }

        SqliteConnection.ClearAllPools();
        foreach (var file in new[] { _path, $"{_path}-wal", $"{_path}-shm", $"{_path}-journal" })
        {
            File.Delete(file);
        }
    }

    private sealed class Factory(DbContextOptions<OrdersContext> options) : IDbContextFactory<OrdersContext>
    {
        public OrdersContext CreateDbContext() => new(options);
    }
}
