using System.CommandLine;
using Cairn.Cli.Commands;
using Cairn.CrashTest.Harness;

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
            ServeCommand.Name,
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

    private sealed class JournaledNode(CrashJournal journal) : IDisposable
    {
        private readonly JournalListener _listener = new(journal, stages: true);

        public void Dispose()
        {
            _listener.Dispose();
            journal.Dispose();
        }
    }
}
