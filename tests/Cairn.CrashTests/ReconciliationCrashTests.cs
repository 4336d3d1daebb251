using System.Diagnostics;
using System.Globalization;
using Cairn.Runs;
using Cairn.Sqlite;
using Cairn.Storage;
using Microsoft.Data.Sqlite;
using Reconciliation;

namespace Cairn.CrashTests;

/// <summary>
/// Runs the reconciliation sample (a loop over accounts, parallel ledger and bank branches, a publishing sub-flow) in a
/// real child process, SIGKILLs it inside a loop iteration, a parallel branch or the sub-flow, starts it again with the
/// same recovery ID, and checks from the journal the child writes before every stage which stages of which account
/// ran again and which did not.
/// </summary>
public sealed class ReconciliationCrashTests : IDisposable
{
    private const int AccountCount = 5;
    private const string RecoveryId = "reconcile-crash-test";
    private static readonly TimeSpan StorePatience = TimeSpan.FromSeconds(30);
    private static readonly string[] Accounts = [.. Enumerable.Range(1, AccountCount).Select(i => $"ACC-{i:D4}")];
    private readonly string _dir = Directory.CreateTempSubdirectory("cairn-reconcile-crash-").FullName;

    public ReconciliationCrashTests() => SampleData.Write(_dir, accounts: AccountCount);

    private string StorePath => Path.Combine(_dir, "cairn.db");

    private string JournalPath => Path.Combine(_dir, "journal.txt");

    [Fact]
    public async Task Resume_KilledInTheMiddleOfLoopIteration_RunsOnlyThatIterationsInterruptedStageAgain()
    {
        using (var first = Start("--hang-in", "compare:ACC-0003"))
        {
            await first.WaitForLineAsync("HANG");
            // Both branches of the third account's parallel step finished before 'compare' started: the newest
            // checkpoint is the second branch's, inside the parallel step.
            var run = await WaitForLastRecoveryPointAsync(point => point is "fetch-both/ledger" or "fetch-both/bank", "fetch-both/ledger or fetch-both/bank");
            Assert.Equal(RunStatus.Running, run.Status);
            await first.KillAsync();
        }

        await AssertCheckpointInsideAsync();
        await CompleteAsync();

        AssertStageCounts(Expected(("compare", "ACC-0003", 2)));
        await AssertFinalStateAsync();
    }

    [Fact]
    public async Task Resume_KilledInParallelBranchWhileOtherBranchFinished_RunsOnlyTheUnfinishedBranchAgain()
    {
        using (var first = Start("--hang-in", "read-bank:ACC-0002"))
        {
            await first.WaitForLineAsync("HANG");
            // The bank branch hangs; kill only once the ledger branch has finished and its checkpoint is saved.
            await WaitForLastRecoveryPointAsync(point => point == "fetch-both/ledger", "fetch-both/ledger");
            await first.KillAsync();
        }

        await AssertCheckpointInsideAsync();
        await CompleteAsync();

        AssertStageCounts(Expected(("read-bank", "ACC-0002", 2)));
        await AssertFinalStateAsync();
    }

    [Fact]
    public async Task Resume_KilledInsideInlineSubFlow_RunsOnlyTheSubFlowsInterruptedStageAgain()
    {
        using (var first = Start("--hang-in", "upload:-"))
        {
            await first.WaitForLineAsync("HANG");
            await WaitForLastRecoveryPointAsync(point => point == "rendered", "rendered");
            await first.KillAsync();
        }

        await AssertCheckpointInsideAsync();
        Assert.False(File.Exists(Path.Combine(_dir, "report.csv")), "the report was published before 'upload' ran");
        await CompleteAsync();

        AssertStageCounts(Expected(("upload", "-", 2)));
        await AssertFinalStateAsync();
    }

    [Fact]
    public async Task Resume_KilledTwiceInDifferentIterationsAndBranches_StagesBeforeEachLastPointRanOnce()
    {
        using (var first = Start("--hang-in", "compare:ACC-0002"))
        {
            await first.WaitForLineAsync("HANG");
            await WaitForLastRecoveryPointAsync(point => point is "fetch-both/ledger" or "fetch-both/bank", "fetch-both/ledger or fetch-both/bank");
            await first.KillAsync();
        }

        using (var second = Start("--hang-in", "read-ledger:ACC-0004"))
        {
            await second.WaitForLineAsync("HANG");
            await WaitForLastRecoveryPointAsync(point => point == "fetch-both/bank", "fetch-both/bank");
            await second.KillAsync();
        }

        await AssertCheckpointInsideAsync();
        await CompleteAsync();

        AssertStageCounts(Expected(("compare", "ACC-0002", 2), ("read-ledger", "ACC-0004", 2)));
        await AssertFinalStateAsync();
    }

    [Fact]
    public async Task Resume_KilledInsideDetachedChildRun_ChildResumesAfterItsPointAndWakesItsWaitingParent()
    {
        RunRecord parent;
        using (var first = Start("--hang-in", "index-report:-"))
        {
            await first.WaitForLineAsync("HANG");
            parent = await WaitForRunAsync(
                run => run.LastRecoveryPoint == "archive" && run.Status == RunStatus.WaitingForRetry, "waiting for its child at 'archive'");
            Assert.EndsWith("/-2", parent.Position, StringComparison.Ordinal);
            await WaitForChildAsync(parent.Id, child => child.LastRecoveryPoint == "copied", "past 'copied'");
            await first.KillAsync();
        }

        var killed = await WaitForChildAsync(parent.Id, _ => true, "present");
        Assert.Equal(RunStatus.Running, killed.Status);

        // The worker checks a waiting parent's child only every 10 minutes: completing in time takes the child's wake-up.
        await CompleteAsync();

        AssertStageCounts(Expected(("index-report", "-", 2)));
        await AssertFinalStateAsync();
        var archived = await WaitForChildAsync(parent.Id, child => child.Status == RunStatus.Completed, "completed");
        Assert.Equal(2, archived.Attempt);
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(_dir, "report.csv")), await File.ReadAllTextAsync(Path.Combine(_dir, "archive", $"report-{parent.Id}.csv")));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Every stage of every account once, except the given ones.</summary>
    private static Dictionary<string, int> Expected(params (string Stage, string Account, int Count)[] except)
    {
        var expected = new Dictionary<string, int> { ["load-accounts -"] = 1 };
        foreach (var account in Accounts)
        {
            expected[$"read-ledger {account}"] = 1;
            expected[$"read-bank {account}"] = 1;
            expected[$"compare {account}"] = 1;
        }

        expected["render -"] = 1;
        expected["upload -"] = 1;
        expected["copy-report -"] = 1;
        expected["index-report -"] = 1;
        foreach (var (stage, account, count) in except)
        {
            Assert.True(expected.ContainsKey($"{stage} {account}"));
            expected[$"{stage} {account}"] = count;
        }

        return expected;
    }

    private RunningProgram Start(params string[] extra) =>
        DotnetProgram.Start("Cairn.CrashTest.dll", [
            "reconcile-worker", "--store", StorePath, "--recovery-id", RecoveryId, "--dir", _dir, "--journal", JournalPath, .. extra,
        ]);

    private async Task CompleteAsync()
    {
        using var worker = Start();
        var line = await worker.WaitForLineAsync("COMPLETED");
        Assert.Equal(0, await worker.WaitForExitAsync());
        // COMPLETED RUN-ID ACCOUNTS MISMATCHED WAS-ALREADY-COMPLETED
        Assert.Equal(["COMPLETED", $"{AccountCount}", $"{SampleData.Mismatched(AccountCount)}", "False"], line.Split(' ').Where((_, i) => i != 1));
    }

    /// <summary>
    /// Compares what the sample reported per stage and account with <paramref name="expected"/>, and checks the engine
    /// started exactly those stages, plus 'select' once per account.
    /// </summary>
    private void AssertStageCounts(Dictionary<string, int> expected)
    {
        var lines = File.ReadAllLines(JournalPath);
        var reported = lines
            .Where(line => !line.StartsWith("engine ", StringComparison.Ordinal))
            .GroupBy(line => line)
            .ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(expected.OrderBy(p => p.Key, StringComparer.Ordinal), reported.OrderBy(p => p.Key, StringComparer.Ordinal));

        var expectedByEngine = expected
            .GroupBy(p => p.Key.Split(' ')[0])
            .ToDictionary(g => g.Key, g => g.Sum(p => p.Value));
        expectedByEngine["select"] = AccountCount;
        var startedByEngine = lines
            .Where(line => line.StartsWith("engine ", StringComparison.Ordinal))
            .GroupBy(line => line.Split(' ')[1])
            .ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(expectedByEngine.OrderBy(p => p.Key, StringComparer.Ordinal), startedByEngine.OrderBy(p => p.Key, StringComparer.Ordinal));
    }

    /// <summary>Polls the store until the run's newest checkpoint matches; the worker saves it on its own threads.</summary>
    private Task<RunRecord> WaitForLastRecoveryPointAsync(Func<string?, bool> matches, string what) =>
        WaitForRunAsync(run => matches(run.LastRecoveryPoint), $"at {what}");

    /// <summary>Polls the store until the run matches.</summary>
    private async Task<RunRecord> WaitForRunAsync(Func<RunRecord, bool> matches, string what)
    {
        await using var store = await OpenStoreAsync();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var run = await store.FindRunAsync(ReconciliationFlow.Name, RecoveryId, CancellationToken.None);
            if (run is not null && matches(run))
            {
                return run;
            }

            if (deadline.Elapsed > StorePatience)
            {
                throw new TimeoutException($"the run was not {what} after {StorePatience}; its last recovery point is '{run?.LastRecoveryPoint}' ({run?.Status}).");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(25));
        }
    }

    /// <summary>Polls the store until the detached child run of <paramref name="parent"/> matches.</summary>
    private async Task<RunRecord> WaitForChildAsync(RunId parent, Func<RunRecord, bool> matches, string what)
    {
        await using var store = await OpenStoreAsync();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var child = await store.FindRunAsync("archive-report", $"{parent}:archive", CancellationToken.None);
            if (child is not null && matches(child))
            {
                return child;
            }

            if (deadline.Elapsed > StorePatience)
            {
                throw new TimeoutException($"the child run did not become {what} in {StorePatience}; it is at '{child?.LastRecoveryPoint}' ({child?.Status}).");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(25));
        }
    }

    /// <summary>After the kill: the run is still Running and resumes from a checkpoint inside a parallel step or sub-flow.</summary>
    private async Task AssertCheckpointInsideAsync()
    {
        await using var store = await OpenStoreAsync();
        var run = await store.FindRunAsync(ReconciliationFlow.Name, RecoveryId, CancellationToken.None);
        Assert.NotNull(run);
        Assert.Equal(RunStatus.Running, run.Status);
        var data = await store.GetRecoveryDataAsync(run.Id, CancellationToken.None);
        Assert.NotNull(data.Checkpoint);
        Assert.Equal(run.LastRecoveryPoint, data.Checkpoint.RecoveryPoint);
        Assert.EndsWith("/-1", data.Checkpoint.Position.ToString(), StringComparison.Ordinal);
    }

    private async Task AssertFinalStateAsync()
    {
        var expectedLines = Accounts.Select(account =>
        {
            var ledger = Total(Path.Combine(_dir, "ledger", $"{account}.csv"));
            var bank = Total(Path.Combine(_dir, "bank", $"{account}.csv"));
            return string.Create(CultureInfo.InvariantCulture, $"{account},{ledger:F2},{bank:F2},{bank - ledger:F2}");
        }).ToList();
        var report = await File.ReadAllLinesAsync(Path.Combine(_dir, "report.csv"));
        Assert.Equal(["account,ledger,bank,difference", .. expectedLines], report);
        Assert.False(File.Exists(Path.Combine(_dir, "report.csv.tmp")));
        Assert.Equal(SampleData.Mismatched(AccountCount), expectedLines.Count(l => !l.EndsWith(",0.00", StringComparison.Ordinal)));

        var resultFiles = Directory.GetFiles(Path.Combine(_dir, "results"), "*.txt").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(Accounts.Select(a => Path.Combine(_dir, "results", $"{a}.txt")), resultFiles);
        foreach (var (file, line) in resultFiles.Zip(expectedLines))
        {
            Assert.Equal(line + "\n", await File.ReadAllTextAsync(file));
        }

        await using var store = await OpenStoreAsync();
        var run = await store.FindRunAsync(ReconciliationFlow.Name, RecoveryId, CancellationToken.None);
        Assert.NotNull(run);
        Assert.Equal(RunStatus.Completed, run.Status);
        var data = await store.GetRecoveryDataAsync(run.Id, CancellationToken.None);
        Assert.Null(data.Checkpoint);
    }

    private static decimal Total(string csv) =>
        File.ReadLines(csv).Skip(1).Sum(line => decimal.Parse(line.Split(',')[1], CultureInfo.InvariantCulture));

    private async Task<SqliteRunStore> OpenStoreAsync()
    {
        var store = new SqliteRunStore(new SqliteStoreOptions { Path = StorePath });
        await store.InitializeAsync(CancellationToken.None);
        return store;
    }
}
