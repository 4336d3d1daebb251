using System.CommandLine;
using Cairn.Cli.Commands;
using Cairn.CrashTest.Chaos;
using Cairn.CrashTest.Harness;

namespace Cairn.CrashTest.Commands;

/// <summary>
/// <c>chaos-node</c> (hidden): the tool's <c>cairn serve</c> node hosting the chaos soak's flow mix. Its stages journal
/// themselves; it journals every committed checkpoint and every outbox delivery, and keeps streams in the storage folder.
/// </summary>
internal static class ChaosNodeCommand
{
    public const string Name = "chaos-node";

    public static Command Create()
    {
        var journal = new Option<string>("--journal") { Required = true, Description = "Append a line per stage start, committed checkpoint and outbox delivery to this file" };
        var storage = new Option<string?>("--storage-folder") { Description = "Keep named streams in this folder (UseStorageFolder) instead of the database" };
        Journaled? node = null;
        var command = ServeCommand.Create(
            Name,
            "Run a worker node for the chaos soak's flows (used by the chaos soak)",
            builder =>
            {
                var current = node!;
                foreach (var flow in ChaosFlowMix.Flows(current.Journal))
                {
                    builder.AddFlow(flow);
                }

                if (current.StorageFolder is { } folder)
                {
                    builder.UseStorageFolder(folder);
                }

                builder
                    .AddOutboxPublisher("*", (message, _) =>
                    {
                        // Journaled before the delivery counts as done: a node killed after this line delivers it again.
                        current.Journal.Delivered(message.RunId.ToString(), message.Destination, message.Id);
                        return Task.CompletedTask;
                    })
                    .Configure(o =>
                    {
                        o.PollInterval = TimeSpan.FromMilliseconds(250);
                        o.OutboxPollInterval = TimeSpan.FromMilliseconds(250);
                        // A delivery claimed by a killed or frozen node is free again this soon.
                        o.OutboxClaimDuration = TimeSpan.FromSeconds(3);
                        // A parent whose child's end did not wake it (its node died in between) looks again this soon.
                        o.ChildRunCheckInterval = TimeSpan.FromSeconds(5);
                        o.ShutdownTimeout = TimeSpan.FromSeconds(10);
                        // The scheduled purge sweeps the streams of finished runs from the small storage folder; it
                        // purges no run (none is a day old).
                        o.RetentionPeriod = TimeSpan.FromDays(1);
                        o.PurgeInterval = TimeSpan.FromSeconds(20);
                        o.OrphanStreamAge = TimeSpan.FromMinutes(1);
                    });
            },
            parse => node = new Journaled(new CrashJournal(parse.GetRequiredValue(journal)), parse.GetValue(storage)),
            journal,
            storage);
        command.Hidden = true;
        return command;
    }

    private sealed class Journaled(CrashJournal journal, string? storageFolder) : IDisposable
    {
        private readonly JournalListener _listener = new(journal, stages: false);

        public CrashJournal Journal => journal;

        public string? StorageFolder => storageFolder;

        public void Dispose()
        {
            _listener.Dispose();
            journal.Dispose();
        }
    }
}
