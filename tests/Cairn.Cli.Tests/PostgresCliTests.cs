using Cairn.CrashTest.Harness;
using Cairn.Flows;
using Cairn.Postgres;
using Cairn.Runs;
using Npgsql;

namespace Cairn.Cli.Tests;

/// <summary>The <c>cairn runs</c>, <c>purge</c> and <c>serve</c> commands against a real PostgreSQL database, run as real processes.</summary>
[Collection(PostgresCliCollection.Name)]
public sealed class PostgresCliTests(PostgresCluster cluster) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string _database = $"cli_{Guid.NewGuid().ToString("N")[..12]}";
    private readonly string _dir = Directory.CreateTempSubdirectory("cairn-cli-pg-").FullName;
    private RunId _completed;
    private RunId _failed;

    private string Store => cluster.Server.ConnectionString(_database);

    public async Task InitializeAsync()
    {
        await cluster.ExecuteAsync($"CREATE DATABASE {_database}");
        var flow = ParcelStore.CreateFlow();
        await using var engine = CairnEngine.CreateBuilder()
            .UsePostgres(Store)
            .AddFlow(flow)
            .Configure(o => o.NodeName = "filler-node")
            .Build();
        _completed = (await engine.RunAsync(flow, new ParcelStore.Parcel { Destination = "Oslo" }, "parcel-ok")).RunId;
        _failed = (await engine.RunAsync(flow, new ParcelStore.Parcel { Destination = "nowhere" }, "parcel-bad")).RunId;
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await cluster.ExecuteAsync($"DROP DATABASE IF EXISTS {_database} WITH (FORCE)");
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task RunsList_PostgresConnectionString_ShowsTheDatabasesRuns()
    {
        var all = await CairnAsync("runs", "list", "--store", Store);
        var failed = await CairnAsync("runs", "list", "--store", Store, "--status", "Failed");

        Assert.Equal(0, all.ExitCode);
        Assert.Contains(_completed.ToString(), all.Output, StringComparison.Ordinal);
        Assert.Contains(_failed.ToString(), all.Output, StringComparison.Ordinal);
        Assert.Contains("2 run(s)", all.Output, StringComparison.Ordinal);
        Assert.Contains(_failed.ToString(), failed.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(_completed.ToString(), failed.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, Store)));
    }

    [Fact]
    public async Task RunsList_DatabaseWithoutACairnStore_IsRefused_AndNothingIsCreated()
    {
        var empty = $"{_database}_empty";
        await cluster.ExecuteAsync($"CREATE DATABASE {empty}");
        try
        {
            var result = await CairnAsync("runs", "list", "--store", cluster.Server.ConnectionString(empty));

            Assert.Equal(1, result.ExitCode);
            Assert.Contains("schema 'cairn', holds no Cairn store", result.Errors, StringComparison.Ordinal);
            await using var dataSource = NpgsqlDataSource.Create(cluster.Server.ConnectionString(empty));
            await using var schemas = dataSource.CreateCommand("SELECT count(*) FROM pg_namespace WHERE nspname = 'cairn'");
            Assert.Equal(0L, await schemas.ExecuteScalarAsync());
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await cluster.ExecuteAsync($"DROP DATABASE IF EXISTS {empty} WITH (FORCE)");
        }
    }

    [Fact]
    public async Task RunsShow_PostgresConnectionString_ShowsOwnerEventsAndState()
    {
        var result = await CairnAsync("runs", "show", "--store", Store.Replace("Host=", "host=", StringComparison.Ordinal), _failed.ToString());

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("filler-node", result.Output, StringComparison.Ordinal);
        Assert.Contains("no such destination", result.Output, StringComparison.Ordinal);
        Assert.Contains("RecoveryPointPassed", result.Output, StringComparison.Ordinal);
        Assert.Contains("\"Grams\": 1250", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunsRerunAndCancel_PostgresConnectionString_ChangeTheRun()
    {
        var rerun = await CairnAsync("runs", "rerun", "--store", Store, _failed.ToString());
        var statusAfterRerun = await StatusOfAsync(_failed);
        var cancel = await CairnAsync("runs", "cancel", "--store", Store, _failed.ToString());

        Assert.Equal(0, rerun.ExitCode);
        Assert.Equal(RunStatus.Pending, statusAfterRerun);
        Assert.Equal(0, cancel.ExitCode);
        Assert.Equal(RunStatus.Cancelled, await StatusOfAsync(_failed));
    }

    [Fact]
    public async Task Purge_PostgresConnectionString_DeletesFinishedRuns()
    {
        var result = await CairnAsync("purge", "--store", Store, "--older-than", "0s");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Purged 2 finished run(s)", result.Output, StringComparison.Ordinal);
        Assert.Null(await StatusOfAsync(_completed));
    }

    [Fact]
    public async Task RunsList_UnreachablePostgres_FailsWithOneReadableLine()
    {
        var result = await CairnAsync("runs", "list", "--store", "Host=127.0.0.1;Port=1;Username=postgres;Timeout=2");

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("cairn: ", Assert.Single(result.Errors.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_PostgresStore_ExecutesRunsAsItsNodeAndStopsOnSigterm()
    {
        using var node = CrashTestNode.Start("--store", Store, "--node", "node-7", "--max-concurrent-runs", "4");
        var started = await node.WaitForLineAsync("cairn serve: node node-7");
        Assert.Contains($"PostgreSQL database '{_database}'", started, StringComparison.Ordinal);

        var plan = CrashFlowMix.Plans[0];
        var flow = plan.Build((_, _) => Task.CompletedTask);
        await using var observer = Observer();
        await observer.StartAsync();
        var runs = new List<(RunId Id, CrashState Input)>();
        for (var i = 0; i < 5; i++)
        {
            var input = plan.Input(seed: 7, round: 0, run: i);
            var created = await observer.Store.CreateRunAsync(NewRuns.For(flow, input, $"serve-{i}"), CancellationToken.None);
            runs.Add((created.Run.Id, input));
        }

        foreach (var (id, input) in runs)
        {
            var outcome = await observer.WaitForRunAsync(flow, id).WaitAsync(Timeout);
            Assert.Equal(RunStatus.Completed, outcome.Status);
            var expected = plan.Expected(input);
            Assert.Equal(expected.Trail, outcome.Result!.Trail);
            Assert.Equal(expected.Counter, outcome.Result.Counter);
            Assert.Equal(expected.Digest, outcome.Result.Digest);
            Assert.Equal("node-7", (await observer.Store.GetRunAsync(id, CancellationToken.None))!.Owner);
        }

        await node.TerminateAsync();
        Assert.Equal(0, await node.WaitForExitAsync());
        Assert.Contains(node.Lines, line => line.StartsWith("cairn serve: node node-7 stopped", StringComparison.Ordinal));
    }

    // An engine with no flows: it executes nothing, and waits for the runs the nodes execute.
    private CairnEngine Observer() => CairnEngine.CreateBuilder()
        .UsePostgres(Store)
        .Configure(o => o.PollInterval = TimeSpan.FromMilliseconds(100))
        .Build();

    private async Task<RunStatus?> StatusOfAsync(RunId id)
    {
        await using var store = new PostgresRunStore(new PostgresStoreOptions { ConnectionString = Store });
        return (await store.GetRunAsync(id, CancellationToken.None))?.Status;
    }

    private Task<(int ExitCode, string Output, string Errors)> CairnAsync(params string[] arguments) =>
        DotnetProgram.RunAsync("Cairn.Cli.dll", _dir, Timeout, arguments);
}
