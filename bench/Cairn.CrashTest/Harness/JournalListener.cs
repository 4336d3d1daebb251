using System.Diagnostics;
using Cairn.Diagnostics;

namespace Cairn.CrashTest.Harness;

/// <summary>
/// Journals what the engine's activities tell of a node: every committed checkpoint, and with <c>stages</c> every stage
/// start (written before the stage runs: a stage that ran is in the journal even if the node was killed at once).
/// Nodes whose stages journal themselves leave <c>stages</c> off.
/// </summary>
internal sealed class JournalListener : IDisposable
{
    private readonly ActivityListener _listener;

    public JournalListener(CrashJournal journal, bool stages)
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == Telemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStarted = activity =>
            {
                if (stages && activity.OperationName == Telemetry.StageActivity)
                {
                    journal.StageStarted(ActivityTags.Run(activity), ActivityTags.Text(activity, Telemetry.StageTag), ActivityTags.Attempt(activity));
                }
            },
            ActivityStopped = activity =>
            {
                if (activity.OperationName == Telemetry.CheckpointActivity && activity.Status == ActivityStatusCode.Ok)
                {
                    journal.CheckpointCommitted(ActivityTags.Run(activity), ActivityTags.Text(activity, Telemetry.RecoveryPointTag), ActivityTags.Attempt(activity));
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();
}
