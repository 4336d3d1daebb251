using Npgsql;

namespace Cairn.Cli.Tests;

/// <summary>
/// Two <c>cairn serve</c> nodes whose database connections are all terminated, several times, in the middle of a load,
/// while the PostgreSQL server stays up (unlike <see cref="DatabaseRestartTests"/>, which restarts it): the pooled
/// connections, the one that LISTENs for wake-ups and the one that holds the node's name all break at once.
/// </summary>
[Collection(PostgresCliCollection.Name)]
public sealed class DroppedConnectionTests(PostgresCluster cluster) : NodeDatabaseTest(cluster, "dropped")
{
    private const int RunCount = 300;
    private const int LateRunCount = 20;
    private const int Drops = 5;
    private const int Seed = 47;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    // The nodes' connections are told apart by their application name; the test's own (the observer's, the admin's) are spared.
    private const string NodeConnections =
        "datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND application_name LIKE 'node-%'";


    [Fact]
    public async Task Serve_ConnectionsDroppedMidLoad_NodesListenAgainAndEveryRunCompletes()
    {
        var journals = Journals(2);
        using var node0 = StartNode(0, journals[0]);
        using var node1 = StartNode(1, journals[1]);
        await node0.WaitForLineAsync("cairn serve: node node-0 ");
        await node1.WaitForLineAsync("cairn serve: node node-1 ");

        await using var admin = new NpgsqlConnection($"{Store};Application Name=cairn-test-admin");
        await admin.OpenAsync();
        await using var load = await NodeLoad.StartAsync(Store, Seed);
        var runs = await load.AddAsync(RunCount);

        var dropped = new HashSet<int>();
        for (var drop = 1; drop <= Drops; drop++)
        {
            // Spread over the load, each drop once the nodes are further along and both listen again after the last drop.
            await load.WaitUntilFinishedAsync(runs[drop * RunCount / (Drops + 2)], Timeout);
            var listeners = await WaitForListenersAsync(admin, dropped);
            var terminated = await DropNodeConnectionsAsync(admin);
            Assert.All(listeners, listener => Assert.Contains(listener, terminated));
            dropped.UnionWith(terminated);
        }

        // Each node listens again, on a connection it opened after the last drop; runs created now are executed too.
        await WaitForListenersAsync(admin, dropped);
        await load.AddAsync(LateRunCount);
        await load.AssertCompletedAsync(Timeout);

        foreach (var node in new[] { node0, node1 })
        {
            Assert.False(node.HasExited, $"node {node.Id} exited:\n{string.Join('\n', node.Lines)}");
        }

        load.AssertNoCommittedStageRanAgain(journals);
        await node0.TerminateAsync();
        await node1.TerminateAsync();
        Assert.Equal(0, await node0.WaitForExitAsync());
        Assert.Equal(0, await node1.WaitForExitAsync());
    }

    /// <summary>Terminates every connection of the nodes to the database, as an administrator would; returns the server processes it terminated.</summary>
    private static async Task<List<int>> DropNodeConnectionsAsync(NpgsqlConnection admin)
    {
        await using var command = new NpgsqlCommand($"SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity WHERE {NodeConnections}", admin);
        await using var reader = await command.ExecuteReaderAsync();
        var terminated = new List<int>();
        while (await reader.ReadAsync())
        {
            // False for a connection that closed between the look at pg_stat_activity and the signal: nothing to drop.
            if (reader.GetBoolean(1))
            {
                terminated.Add(reader.GetInt32(0));
            }
        }

        return terminated;
    }

    /// <summary>
    /// Waits until each node has a connection whose last statement was its LISTEN for wake-ups, other than the
    /// <paramref name="dropped"/> ones (a terminated process may linger a moment), and returns those connections' server processes.
    /// </summary>
    private static async Task<List<int>> WaitForListenersAsync(NpgsqlConnection admin, HashSet<int> dropped)
    {
        var listeners = new Dictionary<string, int>(StringComparer.Ordinal);
        await StoreWaits.UntilAsync(async () =>
        {
            listeners.Clear();
            await using var command = new NpgsqlCommand($"SELECT application_name, pid FROM pg_stat_activity WHERE {NodeConnections} AND query LIKE 'LISTEN %'", admin);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                if (!dropped.Contains(reader.GetInt32(1)))
                {
                    listeners[reader.GetString(0)] = reader.GetInt32(1);
                }
            }

            return listeners.ContainsKey("node-0") && listeners.ContainsKey("node-1");
        }, Timeout, "both nodes to listen for wake-ups on a live connection");
        return [.. listeners.Values];
    }

    private RunningProgram StartNode(int index, string journal) => CrashTestNode.StartJournaled($"{Store};Application Name=node-{index}", index, journal);
}
