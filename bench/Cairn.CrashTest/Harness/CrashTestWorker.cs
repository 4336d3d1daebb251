using System.Diagnostics;
using Cairn.Diagnostics;
using Cairn.Sqlite;

namespace Cairn.CrashTest.Harness;

/// <summary>
/// The child process of the crash test: creates the runs of its round (once: they have fixed recovery IDs),
/// lets the engine resume the runs a killed predecessor left, journals every stage start and committed checkpoint,
/// and tells the harness on standard output when a targeted moment comes (<c>HIT ...</c>), so it can be killed there.
/// </summary>
internal sealed class CrashTestWorker(CrashTestWorkerSettings settings)
{
    private static readonly Lock OutputLock = new();
    private int _events;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        using var journal = new CrashJournal(settings.JournalPath);
        var flows = CrashFlowMix.Plans.ToDictionary(p => p.Name, p => p.Build(InsideStageAsync), StringComparer.Ordinal);
        var lastStages = CrashFlowMix.Plans.ToDictionary(p => p.Name, p => p.LastStage, StringComparer.Ordinal);
        using var listener = Listen(journal, lastStages);

        var builder = CairnEngine.CreateBuilder()
            .UseSqlite(settings.StorePath)
            .Configure(o =>
            {
                o.MaxConcurrentRuns = settings.Concurrency;
                o.PollInterval = TimeSpan.FromMilliseconds(200);
                o.RetentionPeriod = null;
            });
        foreach (var flow in flows.Values)
        {
            builder.AddFlow(flow);
        }

        await using var engine = builder.Build();

        // Starting the engine marks the runs of a killed predecessor interrupted and resumes them at once.
        await engine.StartAsync(cancellationToken);
        Say("READY");
        var waits = new List<(string RecoveryId, Task<RunOutcome<CrashState>> Outcome)>(settings.Runs);
        for (var i = 0; i < settings.Runs; i++)
        {
            var plan = CrashFlowMix.PlanFor(settings.Seed, i);
            var flow = flows[plan.Name];
            var recoveryId = CrashFlowMix.RecoveryId(settings.Round, i);
            var runId = (await engine.Operator.FindRunAsync(flow.Name, recoveryId, cancellationToken))?.Id
                ?? (await engine.StartRunAsync(flow, plan.Input(settings.Seed, settings.Round, i), recoveryId, cancellationToken)).Id;
            waits.Add((recoveryId, engine.WaitForRunAsync(flow, runId, cancellationToken)));
        }

        await Task.WhenAll(waits.Select(w => w.Outcome));
        var unfinished = waits.Where(w => !w.Outcome.Result.IsCompleted).ToList();
        foreach (var (recoveryId, outcome) in unfinished)
        {
            Say($"UNFINISHED {recoveryId} {outcome.Result.Status} {outcome.Result.Error}");
        }

        Say(string.Create(CultureInfo.InvariantCulture, $"DONE {waits.Count - unfinished.Count} {unfinished.Count}"));
        return 0;
    }

    private Task InsideStageAsync(StageContext<CrashState> context, CancellationToken cancellationToken)
    {
        if (settings.Target == KillMoment.Stage && Interlocked.Increment(ref _events) == settings.TargetAt)
        {
            Say($"HIT stage {context.RunId} {context.StageName}");

            // Hold the stage here, half done, until the harness kills this process.
            return Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
        }

        return Task.CompletedTask;
    }

    private ActivityListener Listen(CrashJournal journal, Dictionary<string, string> lastStages)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == Telemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStarted = activity =>
            {
                switch (activity.OperationName)
                {
                    case Telemetry.StageActivity:
                        // Written before the stage runs: a stage that ran is in the journal even if it was killed at once.
                        journal.StageStarted(ActivityTags.Run(activity), ActivityTags.Text(activity, Telemetry.StageTag), ActivityTags.Attempt(activity));
                        break;
                    case Telemetry.CheckpointActivity when settings.Target == KillMoment.Checkpoint:
                        if (Interlocked.Increment(ref _events) == settings.TargetAt)
                        {
                            Say($"HIT checkpoint {ActivityTags.Run(activity)} {ActivityTags.Text(activity, Telemetry.RecoveryPointTag)}");
                        }

                        break;
                }
            },
            ActivityStopped = activity =>
            {
                if (activity.Status != ActivityStatusCode.Ok)
                {
                    return;
                }

                if (activity.OperationName == Telemetry.CheckpointActivity)
                {
                    journal.CheckpointCommitted(ActivityTags.Run(activity), ActivityTags.Text(activity, Telemetry.RecoveryPointTag), ActivityTags.Attempt(activity));
                }
                else if (activity.OperationName == Telemetry.StageActivity
                    && settings.Target == KillMoment.Commit
                    && lastStages.TryGetValue(ActivityTags.Text(activity, Telemetry.FlowTag), out var last)
                    && last == ActivityTags.Text(activity, Telemetry.StageTag)
                    && Interlocked.Increment(ref _events) == settings.TargetAt)
                {
                    // What follows the last stage: serializing the result and committing the run's completion.
                    Say($"HIT commit {ActivityTags.Run(activity)} {last}");
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    private static void Say(string line)
    {
        lock (OutputLock)
        {
            Console.Out.WriteLine(line);
            Console.Out.Flush();
        }
    }
}
