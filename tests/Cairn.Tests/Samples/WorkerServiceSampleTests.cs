using System.Diagnostics;
using Cairn.Runs;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Reconciliation;
using WorkerService;

namespace Cairn.Tests.Samples;

/// <summary>The Worker Service sample: its own host, on a temporary SQLite file, starts the period's reconciliation and completes it.</summary>
public sealed class WorkerServiceSampleTests : IDisposable
{
    private const int Accounts = 5;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("cairn-worker-service-").FullName;

    [Fact]
    public async Task Host_SqliteByDefault_ReconcilesThePeriodOnceAsTheConfiguredNode()
    {
        var data = Path.Combine(_dir, "data");
        SampleData.Write(data, Accounts);
        using var host = ReconciliationWorker.CreateBuilder([
            $"--Cairn:SqlitePath={Path.Combine(_dir, "cairn.db")}",
            "--Cairn:NodeName=worker-1",
            $"--Reconciliation:Folder={data}",
        ]).Build();
        var engine = host.Services.GetRequiredService<CairnEngine>();
        var recoveryId = host.Services.GetRequiredService<ReconciliationSchedule>().RecoveryIdAt(TimeProvider.System.GetUtcNow());

        await host.StartAsync();
        var run = await FindRunAsync(engine, recoveryId);
        var finished = await engine.Operator.WaitForRunAsync(run.Id).WaitAsync(Timeout);
        await host.StopAsync();

        Assert.True(finished.Status == RunStatus.Completed, finished.LastError);
        Assert.Equal("worker-1", finished.Owner);
        Assert.Equal(Accounts + 1, File.ReadAllLines(Path.Combine(data, "report.csv")).Length);
        Assert.Equal(Accounts, Directory.GetFiles(Path.Combine(data, "results")).Length);
        var runs = await engine.Operator.ListRunsAsync(new RunQuery { FlowName = ReconciliationFlow.Name });
        Assert.Equal(recoveryId, Assert.Single(runs.Runs).RecoveryId);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    // The host's starter creates the run in the background: look for it until it is there.
    private static async Task<RunInfo> FindRunAsync(CairnEngine engine, string recoveryId)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (await engine.Operator.FindRunAsync(ReconciliationFlow.Name, recoveryId) is { } run)
            {
                return run;
            }

            Assert.True(clock.Elapsed < Timeout, $"no run with recovery ID '{recoveryId}' after {Timeout}");
            await timer.WaitForNextTickAsync();
        }
    }
}
