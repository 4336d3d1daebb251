using System.Diagnostics;
using Cairn.CrashTest.Harness;
using Cairn.Postgres;
using Cairn.Runs;
using Cairn.Storage;
using Npgsql;

namespace Cairn.Cli.Tests;

/// <summary>
/// Two <c>cairn serve</c> nodes while the PostgreSQL server restarts in the middle of a load. Runs on a throwaway cluster
/// of its own, since it stops the server; in the shared collection so that it does not compete for the CPU with the others.
/// </summary>
[Collection(PostgresCliCollection.Name)]
public sealed class DatabaseRestartTests : IAsyncLifetime
{
    private const int RunCount = 100;
    private const int Seed = 31;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly string _dir = Directory.CreateTempSubdirectory("cairn-restart-").FullName;
    private PostgresServer? _server;

    private PostgresServer Server => _server!;

    private string Store => Server.ConnectionString();

    public async Task InitializeAsync() => _server = await PostgresServer.StartNewAsync();

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Serve_DatabaseRestartedMidLoad_NodesKeepRunningAndEveryRunCompletes()
    {
        var journals = Enumerable.Range(0, 2).Select(i => Path.Combine(_dir, $"journal-{i}.txt")).ToList();
        using var node0 = StartNode(0, journals[0]);
        using var node1 = StartNode(1, journals[1]);
        await node0.WaitForLineAsync("cairn serve: node node-0 ");
        await node1.WaitForLineAsync("cairn serve: node node-1 ");

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

        await StoreWaits.UntilAsync(async () =>
        {
            var done = await observer.Store.ListRunsAsync(new RunQuery { Statuses = [RunStatus.Completed], Limit = 1000 }, CancellationToken.None);
            return done.Count >= RunCount / 5;
        }, Timeout, "a fifth of the runs to complete");

        await Server.StopAsync();
        await Server.StartAsync();

        foreach (var (id, plan, input) in runs)
        {
            var outcome = await observer.WaitForRunAsync(flows[plan.Name], id).WaitAsync(Timeout);
            Assert.True(outcome.Status == RunStatus.Completed, $"run {id} ({plan.Name}) ended {outcome.Status}: {outcome.Error}");
            var expected = plan.Expected(input);
            Assert.Equal(expected.Trail, outcome.Result!.Trail);
            Assert.Equal(expected.Counter, outcome.Result.Counter);
            Assert.Equal(expected.Digest, outcome.Result.Digest);
        }

        // Both nodes lived through the outage: still running now, and they stop gracefully when asked.
        foreach (var node in new[] { node0, node1 })
        {
            using var process = Process.GetProcessById(node.Id);
            Assert.False(process.HasExited, $"node {node.Id} exited during the outage:\n{string.Join('\n', node.Lines)}");
        }

        StoreWaits.AssertNoCommittedStageRanAgain(runs.ToDictionary(r => r.Id.Value, r => r.Plan), journals);
        await node0.TerminateAsync();
        await node1.TerminateAsync();
        Assert.Equal(0, await node0.WaitForExitAsync());
        Assert.Equal(0, await node1.WaitForExitAsync());
    }

    private RunningProgram StartNode(int index, string journal) => CrashTestNode.StartJournaled(Store, index, journal);
}
