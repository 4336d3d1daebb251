namespace Cairn.Bench.Workloads;

/// <summary>
/// <c>recovery</c>: a child process creates N runs and holds them all past their first recovery point; this process
/// watches the store until every run has passed it, kills the child with SIGKILL, starts a new child whose engine
/// resumes the interrupted runs, and measures the time from that restart until all runs have completed.
/// </summary>
internal static class RecoveryWorkload
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Both children run under one node name, as a node restarted by its supervisor does: on PostgreSQL the restarted node
    /// takes the name's lock and resumes the runs left by the killed one at once, without waiting for their leases.
    /// </summary>
    private const string NodeName = "bench-recovery";

    public static Command CreateCommand()
    {
        var runs = CommonOptions.Runs("Runs interrupted", 10_000);
        var concurrency = new Option<int>("--resume-concurrency") { Description = "MaxConcurrentRuns of the restarted engine; default: the run count" };
        var timeout = CommonOptions.PhaseTimeout(600);
        var (command, common) = CommonOptions.CreateCommand(
            "recovery", "N runs interrupted after their first recovery point by SIGKILL; restart; time until all have completed",
            runs, concurrency, timeout);
        command.SetAction((parse, ct) =>
        {
            var count = parse.GetValue(runs);
            var slots = parse.GetValue(concurrency) is > 0 and var c ? c : count;
            return RunAsync(common.Read(parse), new Parameters(count, slots, StateBytes: 100), TimeSpan.FromSeconds(parse.GetValue(timeout)), ct);
        });
        return command;
    }

    private static async Task<int> RunAsync(BenchSettings settings, Parameters parameters, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (parameters.Runs < 1 || timeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("--runs and --timeout must be 1 or more.");
        }

        await using var store = await BenchStore.OpenAsync(settings, cancellationToken);
        AnsiConsole.MarkupLine($"[bold]recovery[/]: {parameters.Runs:N0} runs killed after point-1, resumed with MaxConcurrentRuns {parameters.ResumeConcurrency:N0}; {Markup.Escape(store.Description)}, {Workload.Describe(settings)}");
        await using var reader = await store.OpenReaderAsync(cancellationToken);
        var count = parameters.Runs.ToString(CultureInfo.InvariantCulture);

        // A flow name of its own, so that runs left in a --store by an earlier measurement are not counted.
        var flowName = $"recovery-{Guid.NewGuid().ToString("N")[..8]}";

        // Phase 1: every run Running past its first recovery point, then SIGKILL.
        var prepareClock = Stopwatch.StartNew();
        TimeSpan prepared;
        using (var child = ChildProcess.Start(["recovery-child", "--mode", "prepare", "--flow", flowName, "--runs", count,
            "--state-bytes", parameters.StateBytes.ToString(CultureInfo.InvariantCulture), "--node", NodeName, .. store.ChildArguments()]))
        {
            var passed = 0;
            var lastReport = TimeSpan.Zero;
            while (passed < parameters.Runs)
            {
                if (child.HasExited)
                {
                    throw new InvalidOperationException($"The preparing child process exited early: {await child.GetErrorsAsync()}");
                }

                if (prepareClock.Elapsed > timeout)
                {
                    throw new TimeoutException($"After {timeout}, {passed:N0} of {parameters.Runs:N0} runs had passed their first recovery point.");
                }

                await Task.Delay(PollInterval, cancellationToken);
                passed = await Workload.CountAsync(reader, flowName, RunStatus.Running, parameters.Runs, r => r.CheckpointSequence >= 1, cancellationToken);
                if (prepareClock.Elapsed - lastReport >= TimeSpan.FromSeconds(2))
                {
                    lastReport = prepareClock.Elapsed;
                    AnsiConsole.MarkupLine($"  {passed:N0} of {parameters.Runs:N0} runs past point-1 after {Format.Seconds(prepareClock.Elapsed)}");
                }
            }

            prepared = prepareClock.Elapsed;
            await child.KillAsync(cancellationToken);
            AnsiConsole.MarkupLine($"  all {parameters.Runs:N0} runs past point-1 after {Format.Seconds(prepared)}; child process {child.Id} [red]killed with SIGKILL[/]");
        }

        var stranded = await Workload.CountAsync(reader, flowName, RunStatus.Running, parameters.Runs, r => r.CheckpointSequence >= 1, cancellationToken);
        if (stranded != parameters.Runs)
        {
            throw new InvalidOperationException($"After the kill, {stranded:N0} runs instead of {parameters.Runs:N0} are left Running past point-1.");
        }

        // Phase 2: restart and time until all are completed.
        var restart = Stopwatch.GetTimestamp();
        ChildLine opened, ready, first, all;
        using (var child = ChildProcess.Start(["recovery-child", "--mode", "resume", "--flow", flowName, "--runs", count,
            "--concurrency", parameters.ResumeConcurrency.ToString(CultureInfo.InvariantCulture), "--node", NodeName, .. store.ChildArguments()]))
        {
            opened = await child.WaitForLineAsync("OPENED", timeout, cancellationToken);
            ready = await child.WaitForLineAsync("READY", timeout, cancellationToken);
            first = await child.WaitForLineAsync("FIRST", timeout, cancellationToken);
            all = await child.WaitForLineAsync("ALL", timeout, cancellationToken);
            var exitCode = await child.WaitForExitAsync(timeout, cancellationToken);
            if (exitCode != 0)
            {
                throw new InvalidOperationException($"The resuming child process exited with code {exitCode}: {await child.GetErrorsAsync()}");
            }
        }

        var completed = await Workload.EnsureAllCompletedAsync(reader, flowName, parameters.Runs, "the restart", cancellationToken);

        var results = new Results(
            parameters.Runs,
            prepared.TotalSeconds,
            Stopwatch.GetElapsedTime(restart, ready.ReceivedAt).TotalSeconds,
            RecoveryChild.Milliseconds(ready.Text) / 1000.0,
            RecoveryChild.Milliseconds(opened.Text) / 1000.0,
            Stopwatch.GetElapsedTime(restart, first.ReceivedAt).TotalSeconds,
            Stopwatch.GetElapsedTime(restart, all.ReceivedAt).TotalSeconds,
            parameters.Runs / Stopwatch.GetElapsedTime(ready.ReceivedAt, all.ReceivedAt).TotalSeconds,
            completed);

        await Workload.ReportAsync("recovery", store, settings, parameters, results, cancellationToken);
        return 0;
    }

    private sealed record Parameters(int Runs, int ResumeConcurrency, int StateBytes);

    private sealed record Results(
        int Runs,
        double PrepareSeconds,
        double EngineStartedSeconds,
        double ChildStartSeconds,
        double ChildStoreOpenedSeconds,
        double FirstCompletedSeconds,
        double AllCompletedSeconds,
        double ResumedRunsPerSecond,
        int CompletedInStore) : IWorkloadResults
    {
        public IEnumerable<(string Measured, string Value)> Figures() =>
        [
            ("runs interrupted after point-1", Format.Count(Runs)),
            ("creating them, until all past point-1", Format.Seconds(PrepareSeconds)),
            ("restart → engine started (process start + StartAsync)", Format.Seconds(EngineStartedSeconds)),
            ("  of which in the child, Main → StartAsync returned", Format.Seconds(ChildStartSeconds)),
            ("    of which opening the store (connect, schema check)", Format.Seconds(ChildStoreOpenedSeconds)),
            .. Workload.Completions("restart", "", FirstCompletedSeconds, AllCompletedSeconds),
            ("resumed runs/s (engine started → all completed)", Format.Count(ResumedRunsPerSecond)),
        ];
    }
}
