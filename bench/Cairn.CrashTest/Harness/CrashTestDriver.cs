using System.ComponentModel;
using System.Diagnostics;
using Cairn.Cli;

namespace Cairn.CrashTest.Harness;

/// <summary>
/// The parent process of the crash test: starts worker processes on one store, SIGKILLs them at random and at targeted
/// moments, looks at the store after every kill, starts the next worker, and after the last kill lets a worker finish
/// every run. When all runs of a round have finished and kills remain, a new round of runs begins.
/// </summary>
internal sealed class CrashTestDriver(CrashTestSettings settings, IAnsiConsole console)
{
    private static readonly TimeSpan WorkerPatience = TimeSpan.FromMinutes(5);
    private const int MaxConsecutiveFailures = 3;

    private readonly Random _random = new(settings.Seed);
    private readonly Dictionary<KillMoment, int> _killsByMoment = [];
    private readonly List<Violation> _violations = [];
    private int _kills;
    private int _processes;
    private int _storeChecks;
    private int _checkpointsVerified;
    private int _sabotaged;

    public async Task<CrashTestReport> RunAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var round = 1;
        var failures = 0;
        var progressEvery = Math.Max(1, settings.Kills / 100);
        while (true)
        {
            var plan = _kills < settings.Kills ? NextPlan() : KillPlan.None;
            var worker = await RunWorkerAsync(round, plan, cancellationToken);
            if (worker.Killed)
            {
                failures = 0;
                _kills++;
                _killsByMoment[plan.Moment] = _killsByMoment.GetValueOrDefault(plan.Moment) + 1;
                var inspection = StoreInspector.Inspect(settings.StorePath, $"after kill {_kills}");
                _storeChecks++;
                _checkpointsVerified += inspection.CheckpointsVerified;
                _violations.AddRange(inspection.Violations);
                var sabotage = settings.Broken ? LostCommitSabotage.Apply(settings.StorePath, _random) : null;
                if (sabotage is not null)
                {
                    _sabotaged++;
                }

                if (_kills % progressEvery == 0 || _kills == settings.Kills || inspection.Violations.Count > 0 || sabotage is not null)
                {
                    ReportKill(round, plan, worker, inspection, sabotage);
                }

                foreach (var violation in inspection.Violations)
                {
                    console.MarkupLine($"  [red]✗ {Markup.Escape(Violation.Describe(violation.Kind))}:[/] {Markup.Escape(violation.Details)}");
                }

                continue;
            }

            if (worker.Finished && worker.ExitCode == 0)
            {
                failures = 0;
                console.MarkupLine($"[green]round {round}[/]: all {settings.Runs} runs finished in worker {worker.ProcessId}{(worker.Unfinished.Count > 0 ? $", [red]{worker.Unfinished.Count} not completed[/]" : "")} ({_kills} kills so far)");
                if (_kills >= settings.Kills)
                {
                    break;
                }

                round++;
                continue;
            }

            var what = worker.Hung
                ? $"worker {worker.ProcessId} did not finish within {WorkerPatience.TotalMinutes:F0} minutes and was killed"
                : $"worker {worker.ProcessId} exited with code {worker.ExitCode} by itself";
            var failure = new Violation(ViolationKind.UnexpectedError, $"{what} (round {round}, {plan}){(worker.Errors.Length > 0 ? $": {Tail(worker.Errors)}" : "")}");
            _violations.Add(failure);
            console.MarkupLine($"  [red]✗ {Markup.Escape(failure.Details)}[/]");
            if (++failures >= MaxConsecutiveFailures)
            {
                console.MarkupLine($"[red]{MaxConsecutiveFailures} workers in a row failed: giving up before every run finished.[/]");
                break;
            }
        }

        console.MarkupLine("Checking invariants…");
        var expected = new List<ExpectedRun>(round * settings.Runs);
        for (var r = 1; r <= round; r++)
        {
            for (var i = 0; i < settings.Runs; i++)
            {
                var flow = CrashFlowMix.PlanFor(settings.Seed, i);
                expected.Add(new ExpectedRun(CrashFlowMix.RecoveryId(r, i), flow, flow.Input(settings.Seed, r, i)));
            }
        }

        var check = InvariantChecker.Check(settings.StorePath, settings.JournalPath, expected);
        _storeChecks++;
        _checkpointsVerified += check.CheckpointsVerified;
        var violations = _violations.Concat(check.Violations).ToList();
        return new CrashTestReport(
            Seed: settings.Seed,
            Broken: settings.Broken,
            KillsRequested: settings.Kills,
            Kills: _kills,
            KillsByMoment: _killsByMoment.OrderBy(p => p.Key).ToDictionary(p => p.Key, p => p.Value),
            Rounds: round,
            RunsPerRound: settings.Runs,
            Runs: expected.Count,
            RunsCompleted: check.RunsCompleted,
            Concurrency: settings.Concurrency,
            WorkerProcesses: _processes,
            Restarts: Math.Max(0, _processes - 1),
            StagesStarted: check.JournalStageStarts,
            CheckpointsCommitted: check.CheckpointsCommitted,
            CheckpointsJournaled: check.JournalCommits,
            StoreChecks: _storeChecks,
            CheckpointsVerified: _checkpointsVerified,
            Sabotaged: _sabotaged,
            TornJournalLines: check.TornJournalLines,
            DurationSeconds: Math.Round(clock.Elapsed.TotalSeconds, 1),
            ViolationsByKind: Violation.CrashTestKinds.ToDictionary(k => k, k => violations.Count(v => v.Kind == k)),
            Violations: violations);
    }

    private KillPlan NextPlan()
    {
        var events = Math.Max(4, settings.Concurrency * 4);
        if (settings.Broken)
        {
            // Kill after some checkpoints were committed, so that there are runs whose last commit can be "lost".
            return new KillPlan(KillMoment.Checkpoint, TargetAt: _random.Next(2, events + 2));
        }

        var maxDelay = (int)settings.MaxDelay.TotalMilliseconds + 1;
        return _random.Next(100) switch
        {
            < 10 => new KillPlan(KillMoment.Startup, Delay: TimeSpan.FromMilliseconds(_random.Next(maxDelay / 2 + 1))),
            < 35 => new KillPlan(KillMoment.Random, Delay: TimeSpan.FromMilliseconds(_random.Next(maxDelay))),
            < 60 => new KillPlan(KillMoment.Stage, TargetAt: _random.Next(1, events + 1)),
            < 85 => new KillPlan(KillMoment.Checkpoint, TargetAt: _random.Next(1, events + 1), Jitter: TimeSpan.FromTicks(_random.Next(20_000))),
            _ => new KillPlan(KillMoment.Commit, TargetAt: _random.Next(1, events / 2 + 1), Jitter: TimeSpan.FromTicks(_random.Next(10_000))),
        };
    }

    private async Task<WorkerResult> RunWorkerAsync(int round, KillPlan plan, CancellationToken cancellationToken)
    {
        var start = ChildProcess.StartInfo(
        [
            "crash-test-worker",
            "--store", settings.StorePath,
            "--journal", settings.JournalPath,
            "--round", Text(round),
            "--runs", Text(settings.Runs),
            "--seed", Text(settings.Seed),
            "--concurrency", Text(settings.Concurrency),
            "--target", plan.IsTargeted ? plan.Moment.ToString() : nameof(KillMoment.None),
            "--target-at", Text(plan.TargetAt),
        ]);

        var lifetime = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start a crash-test worker process.");
        _processes++;
        var errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
        var killRequested = 0;
        void Kill()
        {
            if (Interlocked.Exchange(ref killRequested, 1) == 0)
            {
                TryKill(process);
            }
        }

        using var stopTimer = new CancellationTokenSource();
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        patience.CancelAfter(WorkerPatience + TimeSpan.FromMilliseconds(settings.Runs * 20));
        var timer = plan.Moment == KillMoment.Startup ? KillAfterAsync(plan.Delay, Kill, stopTimer.Token) : Task.CompletedTask;
        string? hit = null;
        var finished = false;
        var hung = false;
        var unfinished = new List<string>();
        try
        {
            while (await process.StandardOutput.ReadLineAsync(patience.Token) is { } line)
            {
                if (line == "READY")
                {
                    if (plan.Moment == KillMoment.Random)
                    {
                        timer = KillAfterAsync(plan.Delay, Kill, stopTimer.Token);
                    }
                }
                else if (line.StartsWith("HIT ", StringComparison.Ordinal))
                {
                    if (plan.IsTargeted && hit is null)
                    {
                        // Spread the kills over the write that follows instead of always landing at its first instruction.
                        SpinFor(plan.Jitter);
                        Kill();
                        hit = line[4..];
                    }
                }
                else if (line.StartsWith("UNFINISHED ", StringComparison.Ordinal))
                {
                    unfinished.Add(line["UNFINISHED ".Length..]);
                }
                else if (line.StartsWith("DONE ", StringComparison.Ordinal))
                {
                    finished = true;
                }
            }

            await process.WaitForExitAsync(patience.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            hung = true;
        }
        finally
        {
            await stopTimer.CancelAsync();
            await timer;
            if (!process.HasExited)
            {
                TryKill(process);
                await process.WaitForExitAsync(CancellationToken.None);
            }
        }

        var stderr = await errors;
        var killed = !hung && killRequested == 1 && process.ExitCode != 0;
        return new WorkerResult(process.Id, killed, process.ExitCode, finished, hung, hit, lifetime.Elapsed, unfinished, stderr.Trim());
    }

    private void ReportKill(int round, KillPlan plan, WorkerResult worker, StoreInspection inspection, string? sabotage)
    {
        var store = inspection.Violations.Count == 0
            ? $"[green]store ok[/] (integrity_check ok, {inspection.CheckpointsVerified} checkpoint checksums ok)"
            : $"[red]{inspection.Violations.Count} store violations[/]";
        var where = worker.Hit is { } hit ? $" at {Markup.Escape(hit)}" : "";
        console.MarkupLine(
            $"kill [bold]{_kills}[/]/{settings.Kills} round {round}: worker {worker.ProcessId} {Markup.Escape(plan.ToString())}{where} " +
            $"after {worker.Lifetime.TotalSeconds:F2} s; {store}{(sabotage is null ? "" : $"; [yellow]sabotage: {Markup.Escape(sabotage)}[/]")}");
    }

    private static async Task KillAfterAsync(TimeSpan delay, Action kill, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, cancellationToken);
            kill();
        }
        catch (OperationCanceledException)
        {
            // The worker ended first.
        }
    }

    private static void SpinFor(TimeSpan duration)
    {
        var until = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < until)
        {
            Thread.SpinWait(10);
        }
    }

    private static void TryKill(Process process)
    {
        try
        {
            // SIGKILL on Unix: no finally block, no flush, no graceful shutdown in the worker.
            process.Kill();
        }
        catch (Exception ex) when (ex is InvalidOperationException or Win32Exception)
        {
            // It has exited already.
        }
    }

    private static string Tail(string errors) => errors.Length <= 2000 ? errors : $"…{errors[^2000..]}";

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
