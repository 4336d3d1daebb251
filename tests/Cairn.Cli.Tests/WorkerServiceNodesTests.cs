using Cairn.Postgres;
using Cairn.Runs;
using Reconciliation;

namespace Cairn.Cli.Tests;

/// <summary>Two copies of the Worker Service sample (samples/WorkerService), real processes, on one PostgreSQL database.</summary>
[Collection(PostgresCliCollection.Name)]
public sealed class WorkerServiceNodesTests(PostgresCluster cluster) : NodeDatabaseTest(cluster, "workers")
{
    private const int Accounts = 10;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task WorkerService_TwoCopiesOnePostgresDatabase_ReconcileThePeriodOnceAndStopOnSigterm()
    {
        var data = Path.Combine(Dir, "data");
        SampleData.Write(data, Accounts);
        using var worker1 = StartWorker("ws-1", data);
        using var worker2 = StartWorker("ws-2", data);

        // Both start the period's reconciliation with the same recovery ID, and both are handed the same run.
        var started1 = await worker1.WaitForLineAsync("info: WorkerService.ReconciliationStarter[1]");
        var started2 = await worker2.WaitForLineAsync("info: WorkerService.ReconciliationStarter[1]");
        var runId = RunIdOf(started1);
        Assert.Equal(runId, RunIdOf(started2));

        var engine = CairnEngine.CreateBuilder().UsePostgres(Store).Build();
        await using (engine)
        {
            var runs = (await engine.Operator.ListRunsAsync(new RunQuery { FlowName = ReconciliationFlow.Name })).Runs;
            var run = Assert.Single(runs);
            Assert.Equal(runId, run.Id.ToString());
            var finished = await engine.Operator.WaitForRunAsync(run.Id).WaitAsync(Timeout);
            Assert.True(finished.Status == RunStatus.Completed, finished.LastError);
            Assert.Contains(finished.Owner, new[] { "ws-1", "ws-2" });
        }

        Assert.Equal(Accounts + 1, File.ReadAllLines(Path.Combine(data, "report.csv")).Length);
        await worker1.TerminateAsync();
        await worker2.TerminateAsync();
        Assert.Equal(0, await worker1.WaitForExitAsync());
        Assert.Equal(0, await worker2.WaitForExitAsync());
    }

    private RunningProgram StartWorker(string node, string data) => DotnetProgram.Start(
        "Cairn.Samples.WorkerService.dll",
        $"--ConnectionStrings:Cairn={Store}",
        $"--Cairn:NodeName={node}",
        $"--Reconciliation:Folder={data}",
        "--Reconciliation:SampleAccounts=0",
        "--Logging:Console:FormatterName=simple",
        "--Logging:Console:FormatterOptions:SingleLine=true");

    // "info: WorkerService.ReconciliationStarter[1] Reconciliation RECOVERY-ID is run RUN-ID (STATUS)"
    private static string RunIdOf(string line)
    {
        var words = line.Split(' ');
        return words[Array.IndexOf(words, "run") + 1];
    }
}
