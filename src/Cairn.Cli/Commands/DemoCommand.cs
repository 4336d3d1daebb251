using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Cairn.Cli.Demo;
using Spectre.Console;

namespace Cairn.Cli.Commands;

/// <summary>
/// <c>cairn demo</c>: the tool's demo flow (order import, <see cref="OrderImportFlow"/>) runs in a child process, which
/// is killed with SIGKILL in the middle of a stage; a new process started with the same recovery ID resumes the run from
/// its last recovery point.
/// </summary>
internal static class DemoCommand
{
    private static readonly string[] DemoOutputs = ["orders.db", "orders.db-wal", "orders.db-shm", "summary.txt"];

    public static Command Create()
    {
        var store = StoreOption.Create();
        var orders = new Option<int>("--orders") { Description = "How many orders the sample CSV holds", DefaultValueFactory = _ => 2000 };
        var killAfterBatch = new Option<int>("--kill-after-batch") { Description = "Kill the first process after this batch of 'load-orders'", DefaultValueFactory = _ => 3 };
        var command = new Command("demo", "Run the demo flow (order import), kill its process mid-flow, restart it and watch it resume") { store, orders, killAfterBatch };
        command.SetAction(async (parse, ct) =>
        {
            var storeValue = parse.GetRequiredValue(store);
            if (StoreOption.IsPostgres(storeValue))
            {
                throw new ArgumentException("cairn demo runs on a SQLite file (--store PATH); for several nodes on PostgreSQL, see 'cairn serve'.");
            }

            StoreOption.Check(storeValue);
            var storePath = Path.GetFullPath(storeValue);
            var count = parse.GetValue(orders);
            if (count < 1)
            {
                throw new ArgumentException("--orders must be 1 or more.");
            }

            await CancelEarlierDemoRunsAsync(storePath, ct);

            var dir = Path.Combine(Path.GetDirectoryName(storePath)!, "cairn-demo");
            Directory.CreateDirectory(dir);
            foreach (var file in DemoOutputs)
            {
                File.Delete(Path.Combine(dir, file));
            }

            SampleData.WriteOrdersCsv(Path.Combine(dir, "orders.csv"), count);
            var recoveryId = string.Create(CultureInfo.InvariantCulture, $"demo-{TimeProvider.System.GetUtcNow():yyyyMMdd-HHmmss}");
            var stages = OrderImportFlow.Create().StageNames;

            AnsiConsole.Write(new Rule("[bold]Cairn demo: order-import[/]").LeftJustified());
            AnsiConsole.MarkupLine($"Store [blue]{Markup.Escape(storePath)}[/], recovery ID [blue]{recoveryId}[/], {count:N0} orders in [blue]{Markup.Escape(Path.Combine(dir, "orders.csv"))}[/]");
            AnsiConsole.MarkupLine($"Flow: {string.Join(" → ", OrderImportFlow.Create().StageNames.Select(s => Markup.Escape(s)))}, with recovery points after read-csv, validate and load-orders.");

            var worker = new[] { "demo-worker", "--store", storePath, "--recovery-id", recoveryId, "--dir", dir };
            AnsiConsole.WriteLine();
            AnsiConsole.MarkupLine("[bold]Process 1[/] starts the run and is killed in the middle of 'load-orders':");
            var first = await RunWorkerAsync([.. worker, "--hang-after-batch", parse.GetValue(killAfterBatch).ToString(CultureInfo.InvariantCulture), "--batch-pause-ms", "100"], ct);

            await using (var opened = await StoreOption.OpenOperatorAsync(storePath, ct))
            {
                var run = await opened.Operator.FindRunAsync(OrderImportFlow.Name, recoveryId, ct)
                    ?? throw new InvalidOperationException("The demo run is missing from the store.");
                AnsiConsole.MarkupLine($"  The store says: run {run.Id} is {RunsCommands.StatusMarkup(run.Status)} on a dead process, last recovery point [green]'{Markup.Escape(run.LastRecoveryPoint ?? "-")}'[/] ({Markup.Escape(run.StatusMessage ?? "-")}).");
            }

            AnsiConsole.WriteLine();
            AnsiConsole.MarkupLine($"[bold]Process 2[/] starts the same flow with recovery ID {recoveryId}:");
            var second = await RunWorkerAsync([.. worker, "--batch-pause-ms", "20"], ct);

            AnsiConsole.WriteLine();
            var table = new Table().Border(TableBorder.Rounded).AddColumns("Stage", "Process 1", "Process 2");
            foreach (var stage in stages)
            {
                table.AddRow(
                    stage,
                    first.Stages.Contains(stage) ? (stage == first.Stages[^1] ? "[red]ran, killed[/]" : "[green]ran[/]") : "-",
                    second.Stages.Contains(stage) ? "[green]ran[/]" : "[grey]skipped: before the recovery point[/]");
            }

            AnsiConsole.Write(table);
            if (second.Completed is not { } completed)
            {
                AnsiConsole.MarkupLine($"[red]The resumed run did not complete:[/] {Markup.Escape(second.Failure ?? "no result")}");
                return 1;
            }

            var rows = await CountOrdersAsync(Path.Combine(dir, "orders.db"), ct);
            var expected = SampleData.ValidCount(count);
            AnsiConsole.MarkupLine($"Run {completed.RunId} [green]completed[/]: {completed.Loaded:N0} orders loaded (expected {expected:N0}; {rows:N0} rows in the table, no duplicates), total {completed.Total}.");
            AnsiConsole.MarkupLine($"Summary: [blue]{Markup.Escape(Path.Combine(dir, "summary.txt"))}[/]. Look closer: [blue]cairn runs show {completed.RunId}[/]");
            var resumedCorrectly = rows == expected && completed.Loaded == expected
                && !second.Stages.Contains("read-csv") && !second.Stages.Contains("validate");
            return resumedCorrectly ? 0 : 1;
        });
        return command;
    }

    /// <summary>
    /// A demo stopped between its processes leaves its run unfinished, and the next demo's worker would resume it
    /// unasked next to the new one: such runs are cancelled first, saying so.
    /// </summary>
    private static async Task CancelEarlierDemoRunsAsync(string storePath, CancellationToken ct)
    {
        if (!File.Exists(storePath))
        {
            return;
        }

        await using var opened = await StoreOption.OpenOperatorAsync(storePath, ct);
        var unfinished = await opened.Operator.ListRunsAsync(
            new RunQuery { FlowName = OrderImportFlow.Name, Statuses = [RunStatus.Pending, RunStatus.Running, RunStatus.WaitingForRetry, RunStatus.Interrupted] }, ct);
        var now = TimeProvider.System.GetUtcNow();
        foreach (var run in unfinished.Runs.Where(run => !opened.IsOwnerAlive(run, now)))
        {
            await opened.Operator.CancelAsync(run.Id, "cancelled by a new cairn demo: its demo was stopped before it finished", ct);
            AnsiConsole.MarkupLine($"[grey]An earlier demo run {run.Id} ({Markup.Escape(run.RecoveryId)}) was left {run.Status} by a demo that was stopped; it is cancelled so that this demo starts clean.[/]");
        }
    }

    private static async Task<WorkerReport> RunWorkerAsync(string[] arguments, CancellationToken ct)
    {
        var start = ChildProcess.StartInfo(arguments);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the demo worker process.");
        // The worker's warnings and errors (a failing store, say) are shown as they come, not after it exits.
        var errors = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line)
            {
                lock (errors)
                {
                    errors.AppendLine(line);
                }

                AnsiConsole.MarkupLine($"  [red]worker: {Markup.Escape(line)}[/]");
            }
        };
        process.BeginErrorReadLine();
        var report = new WorkerReport();
        while (await process.StandardOutput.ReadLineAsync(ct) is { } line)
        {
            var parts = line.Split(' ', 3);
            switch (parts[0])
            {
                case "STAGE":
                    report.Stages.Add(parts[1]);
                    AnsiConsole.MarkupLine($"  [blue]▶[/] stage [bold]{Markup.Escape(parts[1])}[/] (attempt {Markup.Escape(parts[2])})");
                    break;
                case "POINT":
                    AnsiConsole.MarkupLine($"  [green]●[/] recovery point [green]{Markup.Escape(parts[1])}[/] committed");
                    break;
                case "BATCH":
                    AnsiConsole.MarkupLine($"      batch {parts[1]}/{parts[2]} loaded");
                    break;
                case "HANG":
                    process.Kill();
                    AnsiConsole.MarkupLine($"  [red]✗ process {process.Id} killed with SIGKILL in the middle of stage '{Markup.Escape(report.Stages[^1])}'[/]");
                    break;
                case "COMPLETED":
                    var fields = line.Split(' ');
                    report.Completed = new CompletedRun(fields[1], int.Parse(fields[2], CultureInfo.InvariantCulture), fields[3]);
                    break;
                case "FAILED":
                    report.Failure = line;
                    break;
            }
        }

        await process.WaitForExitAsync(ct);
        string stderr;
        lock (errors)
        {
            stderr = errors.ToString();
        }

        if (report.Completed is null && stderr.Length > 0 && !report.Stages.Contains("load-orders"))
        {
            throw new InvalidOperationException($"The demo worker failed: {stderr.Trim()}");
        }

        return report;
    }

    private static async Task<long> CountOrdersAsync(string path, CancellationToken ct)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        await connection.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM orders";
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    private sealed class WorkerReport
    {
        public List<string> Stages { get; } = [];

        public CompletedRun? Completed { get; set; }

        public string? Failure { get; set; }
    }

    private sealed record CompletedRun(string RunId, int Loaded, string Total);
}
