using System.Diagnostics;
using Cairn.Postgres.TestSupport;
using Npgsql;

namespace Cairn.CrashTest.Chaos;

/// <summary>
/// Injects a soak's faults at their scheduled moments, each in a task of its own so that faults overlap (a node frozen
/// while the database restarts); faults on one node, and those on the database, wait for each other. After each fault
/// the store's checkpoints are checked against their checksums.
/// </summary>
internal sealed class FaultInjector(
    IReadOnlyList<ChaosNode> nodes, PostgresServer server, string adminConnectionString, StorageFolder storage,
    Func<string, Task> checkStore, IAnsiConsole console) : IDisposable
{
    private readonly SemaphoreSlim[] _nodeLocks = [.. nodes.Select(_ => new SemaphoreSlim(1, 1))];
    private readonly SemaphoreSlim _databaseLock = new(1, 1);
    private readonly SemaphoreSlim _storageLock = new(1, 1);
    private readonly List<FaultRecord> _records = [];

    public IReadOnlyList<FaultRecord> Records
    {
        get
        {
            lock (_records)
            {
                return [.. _records.OrderBy(r => r.At)];
            }
        }
    }

    /// <summary>Injects the faults due before <paramref name="stop"/> is cancelled, and waits for the ones under way to end.</summary>
    public async Task RunAsync(IReadOnlyList<ScheduledFault> schedule, Stopwatch soak, CancellationToken stop)
    {
        var running = new List<Task>();
        foreach (var fault in schedule)
        {
            var wait = fault.At - soak.Elapsed;
            try
            {
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, stop);
                }
            }
            catch (OperationCanceledException)
            {
                break;
            }

            running.Add(Task.Run(() => InjectAsync(fault, soak), CancellationToken.None));
        }

        await Task.WhenAll(running);
    }

    /// <summary>Starts a node again that exited by itself, unless a fault is busy with it.</summary>
    public async Task RestartExitedAsync(ChaosNode node, int index, CancellationToken cancellationToken)
    {
        if (!await _nodeLocks[index].WaitAsync(0, cancellationToken))
        {
            return;
        }

        try
        {
            await node.StartAsync(cancellationToken);
        }
        finally
        {
            _nodeLocks[index].Release();
        }
    }

    private async Task InjectAsync(ScheduledFault fault, Stopwatch soak)
    {
        var gate = fault.Node >= 0 ? _nodeLocks[fault.Node] : fault.Kind == FaultKind.StorageFill ? _storageLock : _databaseLock;
        var target = fault.Node >= 0 ? nodes[fault.Node].Name : fault.Kind == FaultKind.StorageFill ? "storage folder" : "database";
        await gate.WaitAsync();
        var at = soak.Elapsed.TotalSeconds;
        FaultRecord record;
        try
        {
            var (injected, outcome) = await (fault.Kind switch
            {
                FaultKind.NodeKill => KillAsync(nodes[fault.Node]),
                FaultKind.NodePause => PauseAsync(nodes[fault.Node], fault.Hold),
                FaultKind.DatabaseRestart => RestartDatabaseAsync(),
                FaultKind.BackendTerminate => TerminateBackendsAsync(fault.Seed),
                _ => FillAsync(fault.Hold),
            });
            record = new FaultRecord(Math.Round(at, 2), fault.Kind, target, injected, outcome);
        }
        catch (Exception ex)
        {
            record = new FaultRecord(Math.Round(at, 2), fault.Kind, target, false, $"failed: {ex.GetType().Name}: {ex.Message}");
        }
        finally
        {
            gate.Release();
        }

        lock (_records)
        {
            _records.Add(record);
        }

        console.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"[grey]{at,7:F1} s[/] {(record.Injected ? "[yellow]" : "[grey]")}{Markup.Escape(Describe(fault.Kind))}[/] {Markup.Escape(target)}: {Markup.Escape(record.Outcome)}"));
        await checkStore($"after {Describe(fault.Kind)} of {target} at {at:F1} s");
    }

    private static async Task<(bool, string)> KillAsync(ChaosNode node)
    {
        var clock = Stopwatch.StartNew();
        await node.KillAsync();
        await node.StartAsync(CancellationToken.None);
        return (true, $"killed and started again in {clock.Elapsed.TotalSeconds:F1} s");
    }

    private static async Task<(bool, string)> PauseAsync(ChaosNode node, TimeSpan hold)
    {
        await node.SignalAsync("STOP");
        try
        {
            await Task.Delay(hold);
        }
        finally
        {
            await node.SignalAsync("CONT");
        }

        return (true, $"frozen for {hold.TotalSeconds:F1} s");
    }

    private async Task<(bool, string)> RestartDatabaseAsync()
    {
        var clock = Stopwatch.StartNew();
        await server.RestartAsync();
        return (true, $"restarted (immediate) in {clock.Elapsed.TotalSeconds:F1} s");
    }

    private async Task<(bool, string)> TerminateBackendsAsync(int seed)
    {
        var random = new Random(seed);
        await using var connection = new NpgsqlConnection(adminConnectionString);
        await connection.OpenAsync();
        var backends = new List<int>();
        await using (var list = new NpgsqlCommand(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'cairn' AND backend_type = 'client backend' ORDER BY pid", connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                backends.Add(reader.GetInt32(0));
            }
        }

        if (backends.Count == 0)
        {
            return (false, "no node connection to terminate");
        }

        var chosen = backends.OrderBy(_ => random.Next()).Take(1 + random.Next(Math.Min(4, backends.Count))).ToList();
        var terminated = 0;
        foreach (var pid in chosen)
        {
            await using var terminate = new NpgsqlCommand("SELECT pg_terminate_backend(@pid)", connection);
            terminate.Parameters.AddWithValue("pid", pid);
            terminated += await terminate.ExecuteScalarAsync() is true ? 1 : 0;
        }

        return (terminated > 0, $"terminated {terminated} of the nodes' {backends.Count} connections");
    }

    private async Task<(bool, string)> FillAsync(TimeSpan hold)
    {
        var written = storage.Fill();
        try
        {
            await Task.Delay(hold);
        }
        finally
        {
            storage.Free();
        }

        return (true, string.Create(CultureInfo.InvariantCulture, $"filled ({written / (1024.0 * 1024):F1} MiB) for {hold.TotalSeconds:F1} s, then freed"));
    }

    public void Dispose()
    {
        foreach (var gate in _nodeLocks)
        {
            gate.Dispose();
        }

        _databaseLock.Dispose();
        _storageLock.Dispose();
    }

    public static string Describe(FaultKind kind) => kind switch
    {
        FaultKind.NodeKill => "SIGKILL",
        FaultKind.NodePause => "SIGSTOP past the lease",
        FaultKind.DatabaseRestart => "PostgreSQL restart",
        FaultKind.BackendTerminate => "pg_terminate_backend",
        _ => "storage folder full",
    };
}
