using System.Collections.Concurrent;
using Cairn.Runs;
using Cairn.Tests.Support;
using Reconciliation;
using Xunit.Abstractions;

namespace Cairn.Tests.Samples;

/// <summary>The reconciliation sample: a loop, parallel branches and a sub-flow, end to end and resumed after a failure.</summary>
public sealed class ReconciliationSampleTests(ITestOutputHelper output) : EngineTest(output), IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("cairn-reconciliation-").FullName;
    private readonly ConcurrentQueue<string> _started = new();

    [Fact]
    public async Task Run_TenAccounts_ReconcilesEachOnceAndPublishesTheReport()
    {
        SampleData.Write(_folder, accounts: 10);
        var flow = ReconciliationFlow.Create((stage, account) => _started.Enqueue($"{stage} {account}"));
        var engine = CreateEngine(flow);

        var outcome = await Within(engine.RunAsync(flow, new ReconciliationState { Folder = _folder }));

        Assert.True(outcome.IsCompleted, outcome.Error);
        var state = outcome.Result!;
        Assert.Equal(10, state.Results.Count);
        Assert.Equal(SampleData.Mismatched(10), state.Results.Count(r => r.Difference != 0));
        Assert.All(state.Results.Where(r => r.Difference != 0), r => Assert.Equal(0.01m, r.Difference));
        Assert.Equal(Path.Combine(_folder, "report.csv"), state.ReportPath);
        Assert.Equal(11, File.ReadAllLines(state.ReportPath!).Length);
        Assert.Equal(10, _started.Count(s => s.StartsWith("read-ledger ", StringComparison.Ordinal)));
        Assert.Equal(10, _started.Count(s => s.StartsWith("read-bank ", StringComparison.Ordinal)));
        Assert.Equal(1, _started.Count(s => s == "upload -"));
    }

    [Fact]
    public async Task Run_BankFileMissingOnce_RetryReadsOnlyThatSideOfThatAccountAgain()
    {
        SampleData.Write(_folder, accounts: 6);
        var bankFile = Path.Combine(_folder, "bank", "ACC-0004.csv");
        File.Move(bankFile, bankFile + ".late");
        var flow = ReconciliationFlow.Create((stage, account) => _started.Enqueue($"{stage} {account}"));
        var engine = CreateEngine(flow);

        var run = await engine.StartRunAsync(flow, new ReconciliationState { Folder = _folder });
        var waiting = await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);
        Assert.Contains("in stage 'read-bank' (iteration 3) in branch 'bank' of parallel 'fetch-both'", waiting.LastError, StringComparison.Ordinal);
        File.Move(bankFile + ".late", bankFile);
        AdvanceAndWake(engine, TimeSpan.FromSeconds(2));
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(6, outcome.Result!.Results.Count);
        foreach (var account in Enumerable.Range(1, 6).Select(i => $"ACC-{i:D4}"))
        {
            Assert.Equal(1, _started.Count(s => s == $"read-ledger {account}"));
            Assert.Equal(account == "ACC-0004" ? 2 : 1, _started.Count(s => s == $"read-bank {account}"));
            Assert.Equal(1, _started.Count(s => s == $"compare {account}"));
        }

        Assert.Equal(1, _started.Count(s => s == "load-accounts -"));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
