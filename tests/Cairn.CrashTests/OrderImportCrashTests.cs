using Cairn.Runs;
using Cairn.Sqlite;
using Microsoft.Data.Sqlite;
using Cairn.Cli.Demo;

namespace Cairn.CrashTests;

/// <summary>
/// Runs the tool's demo flow (order import) in a real child process, SIGKILLs it at chosen moments, starts it again
/// with the same recovery ID, and checks what ran again and what did not from a journal the child writes before every stage.
/// </summary>
public sealed class OrderImportCrashTests : IDisposable
{
    private const int Orders = 1200;
    private readonly string _dir = Directory.CreateTempSubdirectory("cairn-crash-").FullName;

    public OrderImportCrashTests() => SampleData.WriteOrdersCsv(Path.Combine(_dir, "orders.csv"), Orders);

    private string StorePath => Path.Combine(_dir, "cairn.db");

    private string JournalPath => Path.Combine(_dir, "journal.txt");

    [Fact]
    public async Task Resume_KilledRightAfterRecoveryPoint_ContinuesWithNextStage()
    {
        using (var first = Start("--hang-after-point", "validated"))
        {
            await first.WaitForLineAsync("HANG");
            await first.KillAsync();
        }

        await AssertStoreAsync(RunStatus.Running, "validated");
        await CompleteAsync();

        Assert.Equal(
            new Dictionary<string, int> { ["read-csv"] = 1, ["validate"] = 1, ["create-table"] = 1, ["load-orders"] = 1, ["write-summary"] = 1 },
            StageCounts());
        await AssertFinalStateAsync();
    }

    [Fact]
    public async Task Resume_KilledInTheMiddleOfStage_RunsThatStageAgainAndNothingBefore()
    {
        using (var first = Start("--hang-after-batch", "2"))
        {
            await first.WaitForLineAsync("HANG");
            await first.KillAsync();
        }

        await AssertStoreAsync(RunStatus.Running, "validated");
        await CompleteAsync();

        Assert.Equal(
            new Dictionary<string, int> { ["read-csv"] = 1, ["validate"] = 1, ["create-table"] = 2, ["load-orders"] = 2, ["write-summary"] = 1 },
            StageCounts());
        await AssertFinalStateAsync();
    }

    [Fact]
    public async Task Resume_KilledTwiceAtDifferentPoints_EachStageBeforeTheLastPointRanOnce()
    {
        using (var first = Start("--hang-after-batch", "1"))
        {
            await first.WaitForLineAsync("HANG");
            await first.KillAsync();
        }

        using (var second = Start("--hang-after-point", "loaded"))
        {
            await second.WaitForLineAsync("HANG");
            await second.KillAsync();
        }

        await AssertStoreAsync(RunStatus.Running, "loaded");
        await CompleteAsync();

        Assert.Equal(
            new Dictionary<string, int> { ["read-csv"] = 1, ["validate"] = 1, ["create-table"] = 2, ["load-orders"] = 2, ["write-summary"] = 1 },
            StageCounts());
        await AssertFinalStateAsync();
    }

    [Fact]
    public async Task Rerun_SameRecoveryIdAfterCompletion_ReturnsStoredResultWithoutRunningStages()
    {
        await CompleteAsync();
        var stagesBefore = File.ReadAllLines(JournalPath).Length;

        using var again = Start();
        var line = await again.WaitForLineAsync("COMPLETED");
        Assert.Equal(0, await again.WaitForExitAsync());

        Assert.EndsWith("True", line, StringComparison.Ordinal);
        Assert.Equal(stagesBefore, File.ReadAllLines(JournalPath).Length);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private RunningProgram Start(params string[] extra) =>
        DotnetProgram.Start("Cairn.Cli.dll", [
            "demo-worker", "--store", StorePath, "--recovery-id", "crash-test", "--dir", _dir, "--journal", JournalPath, .. extra,
        ]);

    private async Task CompleteAsync()
    {
        using var worker = Start();
        await worker.WaitForLineAsync("COMPLETED");
        Assert.Equal(0, await worker.WaitForExitAsync());
    }

    private Dictionary<string, int> StageCounts() =>
        File.ReadAllLines(JournalPath)
            .Select(line => line.Split(' ')[0])
            .GroupBy(stage => stage)
            .ToDictionary(g => g.Key, g => g.Count());

    private async Task AssertStoreAsync(RunStatus status, string lastRecoveryPoint)
    {
        await using var store = new SqliteRunStore(new SqliteStoreOptions { Path = StorePath });
        await store.InitializeAsync(CancellationToken.None);
        var run = await store.FindRunAsync(OrderImportFlow.Name, "crash-test", CancellationToken.None);
        Assert.NotNull(run);
        Assert.Equal(status, run.Status);
        Assert.Equal(lastRecoveryPoint, run.LastRecoveryPoint);
    }

    private async Task AssertFinalStateAsync()
    {
        var expected = SampleData.ValidCount(Orders);
        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(_dir, "orders.db")};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*), COUNT(DISTINCT id) FROM orders";
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal(expected, reader.GetInt64(0));
            Assert.Equal(expected, reader.GetInt64(1));
        }

        var summary = await File.ReadAllTextAsync(Path.Combine(_dir, "summary.txt"));
        Assert.Contains($"orders loaded: {expected}", summary, StringComparison.Ordinal);
        Assert.Contains($"orders rejected: {Orders - expected}", summary, StringComparison.Ordinal);

        await using var store = new SqliteRunStore(new SqliteStoreOptions { Path = StorePath });
        await store.InitializeAsync(CancellationToken.None);
        var run = await store.FindRunAsync(OrderImportFlow.Name, "crash-test", CancellationToken.None);
        Assert.Equal(RunStatus.Completed, run!.Status);
        var data = await store.GetRecoveryDataAsync(run.Id, CancellationToken.None);
        Assert.Null(data.Checkpoint);
    }
}
