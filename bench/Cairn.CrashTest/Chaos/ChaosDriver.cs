using System.Diagnostics;
using Cairn.CrashTest.Harness;
using Cairn.Postgres;
using Cairn.Postgres.TestSupport;
using Npgsql;

namespace Cairn.CrashTest.Chaos;

/// <summary>
/// The chaos soak: a throwaway PostgreSQL cluster, <c>chaos-node</c> processes serving the chaos flow mix, a load
/// generator starting runs at a fixed rate and a fault injector working through the seed's schedule, for the soak's
/// duration; then the faults stop, the nodes drain (finish every run and deliver every message), stop, and the checks
/// run on what the store, the application table and the journals hold.
/// </summary>
internal sealed partial class ChaosDriver(ChaosSettings settings, IAnsiConsole console)
{
    private readonly List<Violation> _violations = [];
    private readonly List<string> _notes = [];
    private int _storeChecks;
    private int _checkpointsVerified;

    public async Task<ChaosReport> RunAsync(CancellationToken cancellationToken)
    {
        var elapsed = Stopwatch.StartNew();
        await using var server = await PostgresServer.StartNewAsync();
        var store = server.ConnectionString();
        var admin = $"{store};Application Name=cairn-chaos";
        await ExecuteAsync(admin, ChaosEffects.CreateSql, cancellationToken);

        using var storage = StorageFolder.Create(Path.Combine(settings.WorkFolder, "streams"));
        var kinds = Enum.GetValues<FaultKind>().Where(k => k != FaultKind.StorageFill || storage.CanFill).ToList();
        if (storage.Note is { } note)
        {
            _notes.Add(note);
        }

        var schedule = FaultSchedule.Create(settings.Seed, settings.Duration, kinds, settings.Nodes, settings.Lease);
        var journals = Enumerable.Range(0, settings.Nodes).Select(i => Path.Combine(settings.WorkFolder, $"journal-{i}.txt")).ToList();
        var nodes = Enumerable.Range(0, settings.Nodes).Select(i => new ChaosNode(i,
        [
            "--store", store,
            "--max-concurrent-runs", settings.Concurrency.ToString(CultureInfo.InvariantCulture),
            "--lease-duration", $"{settings.Lease.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s",
            "--journal", journals[i],
            "--storage-folder", storage.Path,
        ], Path.Combine(settings.WorkFolder, $"node-{i}.log"))).ToList();
        try
        {
            console.MarkupLine($"Starting {settings.Nodes} nodes on PostgreSQL at 127.0.0.1:{server.Port}…");
            foreach (var node in nodes)
            {
                await node.StartAsync(cancellationToken);
            }

            await using var loadStore = new PostgresRunStore(new PostgresStoreOptions { ConnectionString = $"{store};Application Name=cairn-chaos-load" });
            await loadStore.InitializeAsync(cancellationToken);
            var start = await ScalarAsync<DateTime>(admin, "SELECT now()", cancellationToken);
            var load = new LoadGenerator(loadStore, settings.Seed, settings.Rate);
            using var injector = new FaultInjector(nodes, server, admin, storage, when => CheckStoreAsync(admin, when), console);

            console.MarkupLine(string.Create(CultureInfo.InvariantCulture,
                $"Soak of {settings.Duration.TotalSeconds:F0} s: {settings.Rate:0.##} runs/s, {schedule.Count} faults scheduled ({Count(schedule.GroupBy(f => f.Kind).ToDictionary(g => g.Key, g => g.Count()))})."));
            var soak = Stopwatch.StartNew();
            using (var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                stop.CancelAfter(settings.Duration);
                var watch = WatchAsync(nodes, injector, admin, soak, stop.Token);
                await Task.WhenAll(load.RunAsync(stop.Token), injector.RunAsync(schedule, soak, stop.Token));
                await watch;
            }

            console.MarkupLine($"Faults over at {soak.Elapsed.TotalSeconds:F1} s; draining (at most {settings.DrainTimeout.TotalSeconds:F0} s)…");
            var drain = Stopwatch.StartNew();
            await DrainAsync(nodes, injector, admin, cancellationToken);
            var drainSeconds = drain.Elapsed.TotalSeconds;
            foreach (var node in nodes)
            {
                var exitCode = await node.StopAsync(TimeSpan.FromSeconds(30));
                if (exitCode != 0)
                {
                    _violations.Add(new Violation(ViolationKind.UnexpectedError, $"{node.Name} did not stop gracefully on SIGTERM (exit code {exitCode?.ToString(CultureInfo.InvariantCulture) ?? "none: killed after 30 s"})"));
                }
            }

            _violations.AddRange(nodes.SelectMany(n => n.UnexpectedExits).Select(exit => new Violation(ViolationKind.UnexpectedError, exit)));
            _notes.AddRange(nodes.SelectMany(n => n.StartFailures));
            NpgsqlConnection.ClearAllPools();
            console.MarkupLine("Checking invariants…");
            var check = ChaosChecker.Check(admin, journals, load.Planned, load.Failures);
            var throughput = await ThroughputAsync(admin, start, cancellationToken);
            return Report(schedule, injector.Records, check, throughput, nodes.Sum(n => n.Starts), drainSeconds, elapsed.Elapsed.TotalSeconds);
        }
        finally
        {
            foreach (var node in nodes)
            {
                node.Dispose();
            }

            NpgsqlConnection.ClearAllPools();
        }
    }

    private ChaosReport Report(
        IReadOnlyList<ScheduledFault> schedule, IReadOnlyList<FaultRecord> faults, ChaosCheck check, IReadOnlyList<ThroughputBucket> throughput,
        int nodeProcesses, double drainSeconds, double elapsedSeconds)
    {
        var violations = _violations.Concat(check.Violations).ToList();
        var injected = Enum.GetValues<FaultKind>().ToDictionary(k => k, k => faults.Count(f => f.Kind == k && f.Injected));
        if (check.Runs.Completed == 0)
        {
            violations.Add(new Violation(ViolationKind.VacuousSoak, $"no run completed ({check.Runs.Started} started)"));
        }

        if (injected.Values.Sum() == 0)
        {
            violations.Add(new Violation(ViolationKind.VacuousSoak, $"no fault took effect ({schedule.Count} scheduled)"));
        }

        return new ChaosReport(
            Seed: settings.Seed,
            DurationSeconds: settings.Duration.TotalSeconds,
            Rate: settings.Rate,
            Nodes: settings.Nodes,
            LeaseSeconds: settings.Lease.TotalSeconds,
            Concurrency: settings.Concurrency,
            FaultsScheduled: Enum.GetValues<FaultKind>().ToDictionary(k => k, k => schedule.Count(f => f.Kind == k)),
            FaultsInjected: injected,
            Runs: check.Runs,
            CompletedByFlow: check.CompletedByFlow,
            Throughput: throughput,
            NodeProcesses: nodeProcesses,
            Journals: check.Journals,
            StoreChecks: _storeChecks + 1,
            CheckpointsVerified: _checkpointsVerified + check.CheckpointsVerified,
            DrainSeconds: Math.Round(drainSeconds, 1),
            ElapsedSeconds: Math.Round(elapsedSeconds, 1),
            Faults: faults,
            Ended: check.Ended,
            Notes: [.. _notes, .. check.Notes],
            ViolationsByKind: Violation.ChaosKinds.ToDictionary(k => k, k => violations.Count(v => v.Kind == k)),
            Violations: violations);
    }

    public static string Count(IReadOnlyDictionary<FaultKind, int> faults) =>
        string.Join(", ", faults.Where(p => p.Value > 0).Select(p => $"{FaultInjector.Describe(p.Key)} {p.Value}"));
}
