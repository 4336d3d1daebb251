using Cairn.CrashTest.Harness;
using Cairn.Postgres;
using Cairn.Runs;
using Cairn.Storage;
using Npgsql;

namespace Cairn.Cli.Tests;

/// <summary>
/// Two <c>cairn serve</c> nodes on one PostgreSQL database; one is frozen with SIGSTOP past its lease while it owns runs,
/// the other takes them over, then the frozen one is woken with SIGCONT: its late writes must all be refused.
/// </summary>
[Collection(PostgresCliCollection.Name)]
public sealed class ZombieNodeTests(PostgresCluster cluster) : NodeDatabaseTest(cluster, "zombie")
{
    private const int RunCount = 120;
    private const int Seed = 23;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Serve_NodeStoppedPastItsLeaseThenContinued_LateWritesRefusedAndEveryRunCompletes()
    {
        var journals = Journals(2);
        using var zombie = StartNode(0, journals[0]);
        using var survivor = StartNode(1, journals[1]);
        await zombie.WaitForLineAsync("cairn serve: node node-0 ");
        await survivor.WaitForLineAsync("cairn serve: node node-1 ");

        var flows = CrashFlowMix.Plans.ToDictionary(p => p.Name, p => p.Build((_, _) => Task.CompletedTask), StringComparer.Ordinal);
        await using var observer = CairnEngine.CreateBuilder()
            .UsePostgres(Store)
            .Configure(o => o.PollInterval = TimeSpan.FromMilliseconds(100))
            .Build();
        await observer.StartAsync();
        var runs = await Task.WhenAll(Enumerable.Range(0, RunCount).Select(async i =>
        {
            var plan = CrashFlowMix.PlanFor(Seed, i);
            var input = plan.Input(Seed, 0, i);
            var created = await observer.Store.CreateRunAsync(NewRuns.For(flows[plan.Name], input, CrashFlowMix.RecoveryId(0, i)), CancellationToken.None);
            return (created.Run.Id, Plan: plan, Input: input);
        }));

        // Freeze node-0 while the store shows it owning running runs; a run it finished between the look and the signal
        // does not count, so look again once it is frozen (and thaw and retry if it owned none by then).
        IReadOnlyList<RunRecord> held = [];
        for (var tries = 0; held.Count == 0; tries++)
        {
            Assert.True(tries < 20, "node-0 never owned a running run when frozen");
            await StoreWaits.UntilAsync(async () => (await OwnedByZombieAsync(observer.Store)).Count > 0, Timeout, "node-0 to own running runs");
            await StoreWaits.SignalAsync(zombie.Id, "STOP");
            held = await OwnedByZombieAsync(observer.Store);
            if (held.Count == 0)
            {
                await StoreWaits.SignalAsync(zombie.Id, "CONT");
            }
        }

        // Its leases expire; node-1's heartbeat interrupts them and node-1 claims the runs again, under a new epoch.
        await StoreWaits.UntilAsync(async () =>
        {
            foreach (var before in held)
            {
                var now = await observer.Store.GetRunAsync(before.Id, CancellationToken.None);
                if (now is null || now.Owner == "node-0" || now.LeaseEpoch <= before.LeaseEpoch || now.Attempt <= before.Attempt)
                {
                    return false;
                }
            }

            return true;
        }, Timeout, "node-1 to take over the runs of the frozen node-0");

        await StoreWaits.SignalAsync(zombie.Id, "CONT");

        foreach (var (id, plan, input) in runs)
        {
            var outcome = await observer.WaitForRunAsync(flows[plan.Name], id).WaitAsync(Timeout);
            Assert.True(outcome.Status == RunStatus.Completed, $"run {id} ({plan.Name}) ended {outcome.Status}: {outcome.Error}");
            var expected = plan.Expected(input);
            Assert.Equal(expected.Trail, outcome.Result!.Trail);
            Assert.Equal(expected.Counter, outcome.Result.Counter);
            Assert.Equal(expected.Digest, outcome.Result.Digest);
        }

        // Nothing the zombie's attempt wrote landed after the attempt that took its run over had started.
        foreach (var before in held)
        {
            var events = await observer.Store.GetEventsAsync(before.Id, CancellationToken.None);
            var takeover = events.ToList().FindIndex(e => e.Kind == RunEventKind.Started && e.Attempt > before.Attempt);
            Assert.True(takeover >= 0, $"run {before.Id} has no attempt after node-0's attempt {before.Attempt}");
            var late = events.Skip(takeover).Where(e => e.Attempt == before.Attempt).ToList();
            Assert.True(late.Count == 0, $"run {before.Id}: node-0's attempt {before.Attempt} wrote after the takeover: {string.Join("; ", late)}");
        }

        StoreWaits.AssertNoCommittedStageRanAgain(runs.ToDictionary(r => r.Id.Value, r => r.Plan), journals);
        await zombie.TerminateAsync();
        await survivor.TerminateAsync();
        Assert.Equal(0, await zombie.WaitForExitAsync());
        Assert.Equal(0, await survivor.WaitForExitAsync());
    }

    private static async Task<IReadOnlyList<RunRecord>> OwnedByZombieAsync(RunStore store)
    {
        var running = await store.ListRunsAsync(new RunQuery { Statuses = [RunStatus.Running], Limit = 1000 }, CancellationToken.None);
        return [.. running.Where(r => r.Owner == "node-0")];
    }

    private RunningProgram StartNode(int index, string journal) => CrashTestNode.StartJournaled(Store, index, journal, leaseDuration: "2s");
}
