using Cairn.Runs;
using Cairn.Storage;
using Npgsql;

namespace Cairn.Cli.Tests;

/// <summary>Three <c>cairn serve</c> nodes on one PostgreSQL database, one of them killed with SIGKILL in the middle of a load.</summary>
[Collection(PostgresCliCollection.Name)]
public sealed class MultiNodeTests(PostgresCluster cluster) : NodeDatabaseTest(cluster, "nodes")
{
    private const int RunCount = 1_000;
    private const int Seed = 11;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Serve_ThreeNodesOneKilledMidLoad_EveryRunCompletesAndNoCommittedStageRunsAgain()
    {
        var journals = Journals(3);
        using var node0 = StartNode(0, journals[0]);
        using var node1 = StartNode(1, journals[1]);
        using var node2 = StartNode(2, journals[2]);
        foreach (var (node, i) in new[] { (node0, 0), (node1, 1), (node2, 2) })
        {
            await node.WaitForLineAsync($"cairn serve: node node-{i} ");
        }

        await using var load = await NodeLoad.StartAsync(Store, Seed);
        var runs = await load.AddAsync(RunCount);

        // The nodes claim the oldest runs first: once a tenth is done, every node is busy with the rest.
        await load.WaitUntilFinishedAsync(runs[RunCount / 10], Timeout);

        // Kill node-0 while it owns running runs, so that there is something to take over.
        await StoreWaits.UntilAsync(
            async () => (await load.Store.ListRunsAsync(new RunQuery { Statuses = [RunStatus.Running], Limit = RunCount }, CancellationToken.None))
                .Count(r => r.Owner == "node-0") >= 2,
            Timeout,
            "node-0 to own two running runs");
        await node0.KillAsync();

        await load.AssertCompletedAsync(Timeout);

        // The killed node held runs; the others took them over once its leases expired.
        var interrupted = 0;
        foreach (var run in runs)
        {
            var events = await load.Store.GetEventsAsync(run.Id, CancellationToken.None);
            interrupted += events.Any(e => e.Kind == RunEventKind.Interrupted) ? 1 : 0;
        }

        Assert.True(interrupted > 0, "no run of the killed node was taken over");
        load.AssertNoCommittedStageRanAgain(journals);
        await node1.TerminateAsync();
        await node2.TerminateAsync();
        Assert.Equal(0, await node1.WaitForExitAsync());
        Assert.Equal(0, await node2.WaitForExitAsync());
    }

    private RunningProgram StartNode(int index, string journal) => CrashTestNode.StartJournaled(Store, index, journal);
}
