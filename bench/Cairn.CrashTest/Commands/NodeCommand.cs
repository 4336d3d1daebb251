using System.CommandLine;
using System.Diagnostics;
using Cairn.Cli.Commands;
using Cairn.CrashTest.Harness;
using Cairn.Diagnostics;

namespace Cairn.CrashTest.Commands;

/// <summary>
/// <c>serve</c>: the tool's <c>cairn serve</c> node, executing the crash-test flow mix instead of the demo flow, and
/// journaling every stage start and committed recovery point, for the multi-node tests that kill, freeze and disconnect nodes.
/// </summary>
internal static class NodeCommand
{
    public static Command Create()
    {
        var journal = new Option<string?>("--journal") { Description = "Append a line per stage start and committed recovery point to this file" };
        return ServeCommand.Create(
            "Run a worker node for the crash-test flows: execute their due runs until Ctrl+C or SIGTERM",
            builder =>
            {
                foreach (var plan in CrashFlowMix.Plans)
                {
                    builder.AddFlow(plan.Build((_, _) => Task.CompletedTask));
                }
            },
            parse => parse.GetValue(journal) is { } path ? new JournaledNode(new CrashJournal(path)) : null,
            journal);
    }

    private sealed class JournaledNode : IDisposable
    {
        private readonly CrashJournal _journal;
        private readonly ActivityListener _listener;

        public JournaledNode(CrashJournal journal)
        {
            _journal = journal;
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == Telemetry.Name,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
                ActivityStarted = activity =>
                {
                    if (activity.OperationName == Telemetry.StageActivity)
                    {
                        // Written before the stage runs: a stage that ran is in the journal even if the node was killed at once.
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

        public void Dispose()
        {
            _listener.Dispose();
            _journal.Dispose();
        }
    }
}
