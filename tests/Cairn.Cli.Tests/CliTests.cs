using Cairn.Flows;
using Cairn.Runs;
using Cairn.Sqlite;
using Microsoft.Data.Sqlite;

namespace Cairn.Cli.Tests;

/// <summary>The <c>cairn runs</c> and <c>cairn purge</c> commands against a real SQLite store, run as a real process.</summary>
public sealed class CliTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cairn-cli-").FullName;
    private RunId _completed;
    private RunId _failed;

    private string StorePath => Path.Combine(_dir, "cairn.db");

    public async Task InitializeAsync()
    {
        var flow = Flow.Create<Parcel>("parcel")
            .Stage("weigh", (context, _) =>
            {
                context.State.Grams = 1250;
                return Task.CompletedTask;
            })
            .RecoveryPoint("weighed", "parcel weighed")
            .Stage("label", (context, _) => context.State.Destination == "nowhere"
                ? throw new InvalidOperationException("no such destination")
                : Task.CompletedTask)
            .Retry(RetryPolicy.None)
            .Build();
        await using var engine = CairnEngine.CreateBuilder().UseSqlite(StorePath).AddFlow(flow).Build();
        _completed = (await engine.RunAsync(flow, new Parcel { Destination = "Oslo" }, "parcel-ok")).RunId;
        _failed = (await engine.RunAsync(flow, new Parcel { Destination = "nowhere" }, "parcel-bad")).RunId;
    }

    public Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task RunsList_WithStatusFilter_ShowsOnlyMatchingRuns()
    {
        var all = await CairnAsync("runs", "list");
        var failed = await CairnAsync("runs", "list", "--status", "Failed");

        Assert.Equal(0, all.ExitCode);
        Assert.Contains(_completed.ToString(), all.Output, StringComparison.Ordinal);
        Assert.Contains(_failed.ToString(), all.Output, StringComparison.Ordinal);
        Assert.Contains("2 run(s)", all.Output, StringComparison.Ordinal);
        Assert.Contains(_failed.ToString(), failed.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(_completed.ToString(), failed.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunsList_WithUnknownFlowFilter_ShowsNoRun()
    {
        var result = await CairnAsync("runs", "list", "--flow", "other");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("0 run(s)", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunsShow_FailedRun_ShowsEventsLastRecoveryPointErrorAndState()
    {
        var result = await CairnAsync("runs", "show", _failed.ToString());

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("weighed", result.Output, StringComparison.Ordinal);
        Assert.Contains("parcel weighed", result.Output, StringComparison.Ordinal);
        Assert.Contains("no such destination", result.Output, StringComparison.Ordinal);
        Assert.Contains("RecoveryPointPassed", result.Output, StringComparison.Ordinal);
        Assert.Contains("State at recovery point 'weighed'", result.Output, StringComparison.Ordinal);
        Assert.Contains("\"Grams\": 1250", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunsRerun_FailedRun_MakesItPending()
    {
        var result = await CairnAsync("runs", "rerun", _failed.ToString());

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(RunStatus.Pending, await StatusOfAsync(_failed));
    }

    [Fact]
    public async Task RunsCancel_FailedRun_CancelsIt()
    {
        var result = await CairnAsync("runs", "cancel", _failed.ToString());

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(RunStatus.Cancelled, await StatusOfAsync(_failed));
    }

    [Fact]
    public async Task RunsRerun_CompletedRun_FailsWithOneReadableLine()
    {
        var result = await CairnAsync("runs", "rerun", _completed.ToString());

        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.Errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("cairn: ", line, StringComparison.Ordinal);
        Assert.Contains("Completed", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunsShow_UnknownRun_FailsWithOneReadableLine()
    {
        var result = await CairnAsync("runs", "show", RunId.New().ToString());

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("does not exist", Assert.Single(result.Errors.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunsList_MissingStore_FailsWithOneReadableLine()
    {
        var result = await CairnAsync("runs", "list", "--store", Path.Combine(_dir, "missing.db"));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("No store at", Assert.Single(result.Errors.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "missing.db")));
    }

    [Fact]
    public async Task Purge_OlderThanZero_DeletesFinishedRuns()
    {
        var result = await CairnAsync("purge", "--older-than", "0s");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Purged 2 finished run(s)", result.Output, StringComparison.Ordinal);
        Assert.Null(await StatusOfAsync(_completed));
    }

    [Fact]
    public async Task Purge_OlderThanSevenDays_KeepsRecentRuns()
    {
        var result = await CairnAsync("purge", "--older-than", "7d");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Purged 0 finished run(s)", result.Output, StringComparison.Ordinal);
        Assert.Equal(RunStatus.Completed, await StatusOfAsync(_completed));
    }

    [Fact]
    public async Task Purge_BadDuration_FailsWithOneReadableLine()
    {
        var result = await CairnAsync("purge", "--older-than", "soon");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("is not a duration", result.Errors, StringComparison.Ordinal);
    }

    private async Task<RunStatus?> StatusOfAsync(RunId id)
    {
        await using var store = new SqliteRunStore(new SqliteStoreOptions { Path = StorePath });
        await store.InitializeAsync(CancellationToken.None);
        return (await store.GetRunAsync(id, CancellationToken.None))?.Status;
    }

    private Task<(int ExitCode, string Output, string Errors)> CairnAsync(params string[] arguments) =>
        DotnetProgram.RunAsync("Cairn.Cli.dll", _dir, TimeSpan.FromSeconds(60), arguments);

    public sealed class Parcel
    {
        public string Destination { get; set; } = "";

        public int Grams { get; set; }
    }
}
