using Cairn.Diagnostics;
using Cairn.Flows;
using Cairn.Postgres;
using Cairn.Runs;
using Cairn.Sqlite;
using Cairn.Storage;
using Cairn.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Cairn.Tests.Diagnostics;

/// <summary>The Cairn health check: the store reachable, the worker loop alive, the backlog of due runs under its threshold.</summary>
public sealed class CairnHealthCheckTests : IDisposable
{
    private static readonly Flow<TestState> Greeting = Flow.Create<TestState>("greeting").Stage("hello", (_, _) => Task.CompletedTask).Build();
    private readonly string _dir = Directory.CreateTempSubdirectory("cairn-health-").FullName;

    private string StorePath => Path.Combine(_dir, "cairn.db");

    [Fact]
    public async Task AddCairn_HostedEngineOnSqlite_IsHealthyWithItsNodeAndBacklog()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddCairn(c => c.UseSqlite(StorePath).AddFlow(Greeting).Configure(o => o.NodeName = "node-h"));
        services.AddHealthChecks().AddCairn();
        await using var provider = services.BuildServiceProvider();
        var hosted = Assert.Single(provider.GetServices<IHostedService>(), s => s.GetType().Name == "CairnHostedService");
        await hosted.StartAsync(CancellationToken.None);

        var report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        await hosted.StopAsync(CancellationToken.None);

        var entry = report.Entries["cairn"];
        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Equal("node-h", entry.Data["node"]);
        Assert.Equal(0, entry.Data["dueRuns"]);
    }

    [Fact]
    public async Task AddCairn_EngineNotStarted_IsUnhealthy()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddCairn(c => c.UseInMemoryStore().AddFlow(Greeting));
        services.AddHealthChecks().AddCairn();
        await using var provider = services.BuildServiceProvider();

        var report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.Contains("is not running", report.Entries["cairn"].Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddCairn_StoreAloneReachable_IsHealthy()
    {
        await using (var init = new SqliteRunStore(new SqliteStoreOptions { Path = StorePath }))
        {
            await init.InitializeAsync(CancellationToken.None);
        }

        var report = await CheckStoreAloneAsync(new SqliteRunStore(new SqliteStoreOptions { Path = StorePath, ReadOnly = true }));

        Assert.Equal(HealthStatus.Healthy, report.Status);
        Assert.Equal("The Cairn store answers.", report.Entries["cairn"].Description);
    }

    [Fact]
    public async Task AddCairn_StoreAloneAMissingSqliteFile_IsUnhealthyWithTheStoresError()
    {
        var report = await CheckStoreAloneAsync(new SqliteRunStore(new SqliteStoreOptions { Path = Path.Combine(_dir, "gone.db"), ReadOnly = true }));

        var entry = report.Entries["cairn"];
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.StartsWith("The Cairn store cannot be reached: ", entry.Description, StringComparison.Ordinal);
        Assert.NotNull(entry.Exception);
        Assert.False(File.Exists(Path.Combine(_dir, "gone.db")));
    }

    [Fact]
    public async Task AddCairn_StoreAlonePostgresOnAClosedPort_IsUnhealthy()
    {
        var store = new PostgresRunStore(new PostgresStoreOptions { ConnectionString = "Host=127.0.0.1;Port=1;Username=cairn;Database=cairn;Timeout=3" });

        var report = await CheckStoreAloneAsync(store);

        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.StartsWith("The Cairn store cannot be reached: ", report.Entries["cairn"].Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddCairn_NothingRegistered_IsUnhealthyAndSaysWhatIsMissing()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddHealthChecks().AddCairn(name: "jobs");
        await using var provider = services.BuildServiceProvider();

        var report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        Assert.Equal(HealthStatus.Unhealthy, report.Entries["jobs"].Status);
        Assert.Contains("services.AddCairn", report.Entries["jobs"].Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckHealthAsync_WorkerLoopStuckInTheStore_ReportsTheConfiguredStatus()
    {
        var time = new FakeTimeProvider();
        var store = new WakeUpRunStore(new InMemoryRunStore(time));
        await using var engine = CairnEngine.CreateBuilder().UseStore(store).UseTimeProvider(time).AddFlow(Greeting).Build();
        var check = new CairnHealthCheck(engine, new CairnHealthCheckOptions { WorkerLoopTimeout = TimeSpan.FromMinutes(1), WorkerLoopFailureStatus = HealthStatus.Degraded });
        await engine.StartAsync();
        await store.FirstClaim.WaitAsync(EngineTest.Timeout);
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);
        var stuck = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hung = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        store.BeforeClaim = ct =>
        {
            stuck.TrySetResult();
            return hung.Task.WaitAsync(ct);
        };

        engine.Wake();
        await stuck.Task.WaitAsync(EngineTest.Timeout);
        time.Advance(TimeSpan.FromSeconds(59));
        var stillAlive = await check.CheckHealthAsync(new HealthCheckContext());
        time.Advance(TimeSpan.FromSeconds(2));
        var stalled = await check.CheckHealthAsync(new HealthCheckContext());
        hung.TrySetResult();

        Assert.Equal(HealthStatus.Healthy, stillAlive.Status);
        Assert.Equal(HealthStatus.Degraded, stalled.Status);
        Assert.Contains("worker loop", stalled.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckHealthAsync_StoreHangsPastTheStoreTimeoutOnTheEnginesClock_IsUnhealthy()
    {
        var time = new FakeTimeProvider();
        var store = new WakeUpRunStore(new InMemoryRunStore(time));
        await using var engine = CairnEngine.CreateBuilder().UseStore(store).UseTimeProvider(time).AddFlow(Greeting).Build();
        var check = new CairnHealthCheck(engine, new CairnHealthCheckOptions { StoreTimeout = TimeSpan.FromHours(1) });
        await engine.StartAsync();
        var never = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        store.BeforeList = never.Task.WaitAsync;

        // The check's timer starts before it calls the store: an hour on the engine's clock, and none of real time.
        var checking = check.CheckHealthAsync(new HealthCheckContext());
        Assert.False(checking.IsCompleted);
        time.Advance(TimeSpan.FromHours(1));
        var report = await checking.WaitAsync(EngineTest.Timeout);

        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.Contains("did not answer within 01:00:00", report.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckHealthAsync_MoreRunsDueThanTheThreshold_IsDegraded()
    {
        var time = new FakeTimeProvider();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var flow = Flow.Create<TestState>("busy").Stage("wait", (_, ct) => gate.Task.WaitAsync(ct)).Build();
        await using var engine = CairnEngine.CreateBuilder().UseInMemoryStore().UseTimeProvider(time).AddFlow(flow).Configure(o => o.MaxConcurrentRuns = 1).Build();
        var check = new CairnHealthCheck(engine, new CairnHealthCheckOptions { MaxDueRuns = 1 });
        var first = await engine.StartRunAsync(flow, new TestState());
        await engine.WaitForAsync(first.Id, r => r.Status == RunStatus.Running, CancellationToken.None).WaitAsync(EngineTest.Timeout);
        await engine.StartRunAsync(flow, new TestState());
        var one = await check.CheckHealthAsync(new HealthCheckContext());
        await engine.StartRunAsync(flow, new TestState());
        var two = await check.CheckHealthAsync(new HealthCheckContext());
        gate.TrySetResult();

        Assert.Equal((HealthStatus.Healthy, 1), (one.Status, one.Data["dueRuns"]));
        Assert.Equal((HealthStatus.Degraded, 2), (two.Status, two.Data["dueRuns"]));
        Assert.Contains("More than 1 runs are due", two.Description, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("WorkerLoopTimeout")]
    [InlineData("WorkerLoopFailureStatus")]
    [InlineData("MaxDueRuns")]
    [InlineData("StoreTimeout")]
    public void AddCairn_InvalidOption_IsRefusedAtRegistrationNamingIt(string option)
    {
        var builder = new ServiceCollection().AddHealthChecks();

        var error = Assert.Throws<ArgumentException>(() => builder.AddCairn(o =>
        {
            switch (option)
            {
                case "WorkerLoopTimeout": o.WorkerLoopTimeout = TimeSpan.Zero; break;
                case "WorkerLoopFailureStatus": o.WorkerLoopFailureStatus = HealthStatus.Healthy; break;
                case "MaxDueRuns": o.MaxDueRuns = -1; break;
                default: o.StoreTimeout = TimeSpan.FromSeconds(-1); break;
            }
        }));

        Assert.StartsWith($"Invalid Cairn health check options: {option} is ", error.Message, StringComparison.Ordinal);
    }

    private static async Task<HealthReport> CheckStoreAloneAsync(RunStore store)
    {
        var services = new ServiceCollection().AddLogging();
        services.AddSingleton(store);
        services.AddHealthChecks().AddCairn();
        await using var provider = services.BuildServiceProvider();
        return await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }
}
