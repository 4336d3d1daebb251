using System.Text.Json.Serialization;

namespace Cairn.Bench.Workloads;

/// <summary>
/// <c>takeover</c> (PostgreSQL): two nodes share the store. Node A holds N runs past their first recovery point; node B
/// is idle. A is killed with SIGKILL; B finds A's leases expired at its next heartbeat, and resumes and completes the runs.
/// Measures the time from the kill, and from the leases' expiry (read from the store before the kill), to the first and
/// the last run completed on B.
/// </summary>
internal static class TakeoverWorkload
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    public static Command CreateCommand()
    {
        var runs = CommonOptions.Runs("Runs the killed node holds", 100);
        var lease = new Option<double>("--lease") { Description = "The nodes' lease duration in seconds", DefaultValueFactory = _ => 5 };
        var timeout = CommonOptions.PhaseTimeout(120);
        var (command, common) = CommonOptions.CreateCommand(
            "takeover", "PostgreSQL: a node holding N runs is killed with SIGKILL; time until another node has completed them",
            runs, lease, timeout);
        command.SetAction((parse, ct) => RunAsync(
            common.Read(parse), new Parameters(parse.GetValue(runs), parse.GetValue(lease)), TimeSpan.FromSeconds(parse.GetValue(timeout)), ct));
        return command;
    }

    private static async Task<int> RunAsync(BenchSettings settings, Parameters parameters, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (parameters.Runs < 1 || parameters.LeaseSeconds < 1 || timeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("--runs must be 1 or more, --lease at least 1 second, --timeout positive.");
        }

        await using var store = await BenchStore.OpenAsync(settings, cancellationToken);
        if (!store.IsPostgres)
        {
            throw new ArgumentException("takeover needs several nodes on one store: use --store postgres or a PostgreSQL connection string.");
        }

        AnsiConsole.MarkupLine($"[bold]takeover[/]: node A holds {parameters.Runs:N0} runs past point-1, lease {parameters.LeaseSeconds:N1} s, and is killed; node B takes them over; {Markup.Escape(store.Description)}, {Workload.Describe(settings)}");
        await using var reader = await store.OpenReaderAsync(cancellationToken);
        var flowName = $"takeover-{Guid.NewGuid().ToString("N")[..8]}";
        var count = parameters.Runs.ToString(CultureInfo.InvariantCulture);
        var lease = parameters.LeaseSeconds.ToString(CultureInfo.InvariantCulture);

        using var nodeB = ChildProcess.Start(["recovery-child", "--mode", "resume", "--flow", flowName, "--runs", count,
            "--node", "bench-node-b", "--lease", lease, .. store.ChildArguments()]);
        await nodeB.WaitForLineAsync("READY", timeout, cancellationToken);

        long killedAt;
        DateTimeOffset killedAtUtc;
        DateTimeOffset lastLeaseExpiry;
        using (var nodeA = ChildProcess.Start(["recovery-child", "--mode", "prepare", "--flow", flowName, "--runs", count,
            "--node", "bench-node-a", "--lease", lease, .. store.ChildArguments()]))
        {
            var clock = Stopwatch.StartNew();
            while (await Workload.CountAsync(reader, flowName, RunStatus.Running, parameters.Runs, r => r.CheckpointSequence >= 1 && r.Owner == "bench-node-a", cancellationToken) < parameters.Runs)
            {
                if (nodeA.HasExited)
                {
                    throw new InvalidOperationException($"Node A exited early: {await nodeA.GetErrorsAsync()}");
                }

                if (clock.Elapsed > timeout)
                {
                    throw new TimeoutException($"After {timeout}, node A did not hold all {parameters.Runs:N0} runs past point-1.");
                }

                await Task.Delay(PollInterval, cancellationToken);
            }

            // Let A's heartbeat renew its leases at least once, so that the kill lands at a random point of the lease.
            await Task.Delay(TimeSpan.FromSeconds(parameters.LeaseSeconds / 2), cancellationToken);
            var held = await ((IRunQueries)reader).ListRunsAsync(new RunQuery { Statuses = [RunStatus.Running], FlowName = flowName, Limit = parameters.Runs + 1 }, cancellationToken);
            killedAtUtc = TimeProvider.System.GetUtcNow();
            killedAt = Stopwatch.GetTimestamp();
            await nodeA.KillAsync(cancellationToken);

            // The leases may have been renewed between the read and the kill: read them again, from the dead node's last word.
            var after = await ((IRunQueries)reader).ListRunsAsync(new RunQuery { Statuses = [RunStatus.Running], FlowName = flowName, Limit = parameters.Runs + 1 }, cancellationToken);
            lastLeaseExpiry = held.Concat(after).Where(r => r.Owner == "bench-node-a").Max(r => r.LeaseExpiresAt) ?? killedAtUtc;
            AnsiConsole.MarkupLine($"  node A (process {nodeA.Id}) [red]killed with SIGKILL[/]; its last lease expires {(lastLeaseExpiry - killedAtUtc).TotalSeconds:N2} s later");
        }

        var first = await nodeB.WaitForLineAsync("FIRST", timeout, cancellationToken);
        var all = await nodeB.WaitForLineAsync("ALL", timeout, cancellationToken);
        await nodeB.WaitForExitAsync(timeout, cancellationToken);
        if (await nodeB.GetErrorsAsync() is { Length: > 0 } reported)
        {
            AnsiConsole.MarkupLine($"  node B logged:\n[grey]{Markup.Escape(reported)}[/]");
        }

        var completed = await Workload.EnsureAllCompletedAsync(reader, flowName, parameters.Runs, "the takeover", cancellationToken);

        // When B found each run abandoned and when it resumed it, from the runs' events (the database's clock).
        var interruptedAt = new List<double>();
        var resumedAt = new List<double>();
        foreach (var run in await ((IRunQueries)reader).ListRunsAsync(new RunQuery { FlowName = flowName, Limit = parameters.Runs + 1 }, cancellationToken))
        {
            var events = await ((IRunQueries)reader).GetEventsAsync(run.Id, cancellationToken);
            interruptedAt.AddRange(events.Where(e => e.Kind == RunEventKind.Interrupted).Select(e => (e.Time - killedAtUtc).TotalSeconds));
            resumedAt.AddRange(events.Where(e => e.Kind == RunEventKind.Started && e.Attempt > 1).Select(e => (e.Time - killedAtUtc).TotalSeconds));
        }

        AnsiConsole.MarkupLine($"  after the kill: runs found abandoned from {interruptedAt.DefaultIfEmpty().Min():N2} s to {interruptedAt.DefaultIfEmpty().Max():N2} s, resumed on B from {resumedAt.DefaultIfEmpty().Min():N2} s to {resumedAt.DefaultIfEmpty().Max():N2} s");
        var expiry = (lastLeaseExpiry - killedAtUtc).TotalSeconds;
        var results = new Results(
            parameters,
            expiry,
            Stopwatch.GetElapsedTime(killedAt, first.ReceivedAt).TotalSeconds,
            Stopwatch.GetElapsedTime(killedAt, all.ReceivedAt).TotalSeconds,
            completed);

        await Workload.ReportAsync("takeover", store, settings, parameters, results, cancellationToken);
        return 0;
    }

    private sealed record Parameters(int Runs, double LeaseSeconds);

    /// <summary>The times after the kill; the run count and lease duration are the report's parameters.</summary>
    private sealed record Results(
        [property: JsonIgnore] Parameters Parameters,
        double KillToLeaseExpirySeconds,
        double KillToFirstCompletedSeconds,
        double KillToAllCompletedSeconds,
        int CompletedInStore) : IWorkloadResults
    {
        public double LeaseExpiryToAllCompletedSeconds => KillToAllCompletedSeconds - KillToLeaseExpirySeconds;

        public IEnumerable<(string Measured, string Value)> Figures() =>
        [
            ("runs held by the killed node", Format.Count(Parameters.Runs)),
            ("lease duration", Format.Seconds(Parameters.LeaseSeconds)),
            ("kill → last lease expired", Format.Seconds(KillToLeaseExpirySeconds)),
            .. Workload.Completions("kill", " on node B", KillToFirstCompletedSeconds, KillToAllCompletedSeconds),
            ("lease expired → all runs completed", Format.Seconds(LeaseExpiryToAllCompletedSeconds)),
        ];
    }
}
