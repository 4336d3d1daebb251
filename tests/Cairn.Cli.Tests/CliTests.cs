using Cairn.Runs;
using Cairn.Sqlite;
using Microsoft.Data.Sqlite;

namespace Cairn.Cli.Tests;

/// <summary>The <c>cairn runs</c> and <c>cairn purge</c> commands against a real SQLite store, run as a real process.</summary>
public sealed class CliTests : ParcelStoreTest
{
    [Fact]
    public async Task RunsList_WithStatusFilter_ShowsOnlyMatchingRuns()
    {
        var all = await CairnAsync("runs", "list");
        var failed = await CairnAsync("runs", "list", "--status", "Failed");

        Assert.Equal(0, all.ExitCode);
        Assert.Contains(Store.Completed.ToString(), all.Output, StringComparison.Ordinal);
        Assert.Contains(Store.Failed.ToString(), all.Output, StringComparison.Ordinal);
        Assert.Contains("2 run(s)", all.Output, StringComparison.Ordinal);
        Assert.Contains(Store.Failed.ToString(), failed.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(Store.Completed.ToString(), failed.Output, StringComparison.Ordinal);
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
        var result = await CairnAsync("runs", "show", Store.Failed.ToString());

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
        var result = await CairnAsync("runs", "rerun", Store.Failed.ToString());

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(RunStatus.Pending, await StatusOfAsync(Store.Failed));
    }

    [Fact]
    public async Task RunsCancel_FailedRun_CancelsIt()
    {
        var result = await CairnAsync("runs", "cancel", Store.Failed.ToString());

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(RunStatus.Cancelled, await StatusOfAsync(Store.Failed));
    }

    [Fact]
    public async Task RunsRerun_CompletedRun_FailsWithOneReadableLine()
    {
        var result = await CairnAsync("runs", "rerun", Store.Completed.ToString());

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
        var result = await CairnAsync("runs", "list", "--store", Path.Combine(Store.Dir, "missing.db"));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("No store at", Assert.Single(result.Errors.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(Store.Dir, "missing.db")));
    }

    [Fact]
    public async Task Purge_OlderThanZero_DeletesFinishedRuns()
    {
        var result = await CairnAsync("purge", "--older-than", "0s");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Purged 2 finished run(s)", result.Output, StringComparison.Ordinal);
        Assert.Null(await StatusOfAsync(Store.Completed));
    }

    [Fact]
    public async Task Purge_OlderThanSevenDays_KeepsRecentRuns()
    {
        var result = await CairnAsync("purge", "--older-than", "7d");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Purged 0 finished run(s)", result.Output, StringComparison.Ordinal);
        Assert.Equal(RunStatus.Completed, await StatusOfAsync(Store.Completed));
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
}
