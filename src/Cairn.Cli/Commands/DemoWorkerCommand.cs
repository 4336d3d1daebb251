using System.Diagnostics;
using Cairn.Cli.Demo;

namespace Cairn.Cli.Commands;

/// <summary>
/// <c>cairn demo-worker</c> (hidden): runs the demo flow (order import) in this process and reports each stage and recovery
/// point on standard output, one line each, for <c>cairn demo</c> and the crash tests. It can stop itself at a chosen
/// moment and wait to be killed.
/// </summary>
internal static class DemoWorkerCommand
{
    public static Command Create()
    {
        var worker = new WorkerCommand(
            "demo-worker", "Run the demo flow (order import) in this process (used by 'cairn demo' and the crash tests)",
            "Folder with orders.csv; the target database and summary go there too");
        var journal = new Option<string?>("--journal") { Description = "Append a line per stage start to this file" };
        var hangAfterBatch = new Option<int?>("--hang-after-batch") { Description = "Stop in the middle of 'load-orders' after this batch and wait to be killed" };
        var hangAfterPoint = new Option<string?>("--hang-after-point") { Description = "Stop right after this recovery point is committed and wait to be killed" };
        var batchPause = new Option<int>("--batch-pause-ms") { DefaultValueFactory = _ => 0 };
        var command = worker.Command;
        command.Options.Add(journal);
        command.Options.Add(hangAfterBatch);
        command.Options.Add(hangAfterPoint);
        command.Options.Add(batchPause);
        command.SetAction(async (parse, ct) =>
        {
            var dir = worker.Directory(parse);
            var hangBatch = parse.GetValue(hangAfterBatch);
            var hangPoint = parse.GetValue(hangAfterPoint);
            var journalPath = parse.GetValue(journal);
            using var listener = Listen(journalPath, hangPoint);
            var flow = OrderImportFlow.Create(new OrderImportOptions
            {
                BatchSize = 250,
                BatchPause = TimeSpan.FromMilliseconds(parse.GetValue(batchPause)),
                BatchLoaded = (batch, count) =>
                {
                    Say($"BATCH {batch} {count}");
                    if (batch == hangBatch)
                    {
                        Hang();
                    }
                },
            });
            var input = new OrderImportState
            {
                CsvPath = Path.Combine(dir, "orders.csv"),
                TargetDatabase = Path.Combine(dir, "orders.db"),
                SummaryPath = Path.Combine(dir, "summary.txt"),
            };
            return await worker.RunAsync(
                parse, flow, input, configure: null,
                outcome => string.Create(CultureInfo.InvariantCulture, $"{outcome.Result!.Loaded} {outcome.Result.Total:F2} {outcome.WasAlreadyCompleted}"),
                ct);
        });
        return command;
    }

    private static ActivityListener Listen(string? journalPath, string? hangPoint) => WorkerProtocol.Listen(
        stageStarted: activity =>
        {
            if (journalPath is not null)
            {
                // One line per stage start, written through before the stage runs: the crash tests count them.
                File.AppendAllText(journalPath, $"{activity.GetTagItem(Cairn.Diagnostics.Telemetry.StageTag)} {activity.GetTagItem(Cairn.Diagnostics.Telemetry.AttemptTag)}\n");
            }
        },
        pointCommitted: point =>
        {
            if (point == hangPoint)
            {
                Hang();
            }
        });

    private static void Say(string line) => WorkerProtocol.Say(line);

    private static void Hang() => WorkerProtocol.Hang();
}
