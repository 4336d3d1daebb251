using System.CommandLine;
using System.Text.Json;
using Cairn.CrashTest.Chaos;
using Cairn.CrashTest.Harness;

namespace Cairn.CrashTest.Commands;

/// <summary>
/// <c>chaos</c>: the chaos soak (<c>dotnet bench/Cairn.CrashTest/bin/Release/net10.0/Cairn.CrashTest.dll chaos --duration 120</c>).
/// Three nodes on a throwaway PostgreSQL cluster serve a flow mix under load while nodes are killed and frozen, the
/// database restarts, connections are terminated and the storage folder fills; then the runs drain and the invariants
/// are checked. Exit code 0: no violation; 2: violations.
/// </summary>
internal static class ChaosCommand
{
    public static Command Create()
    {
        var duration = new Option<int>("--duration") { Description = "Seconds of load and faults; the drain and the checks come after", DefaultValueFactory = _ => 120 };
        var seed = new Option<int?>("--seed") { Description = "Seed of the fault schedule and the runs' inputs: the same seed, duration and settings give the same schedule. Default: random (printed)" };
        var rate = new Option<double>("--rate") { Description = "Runs started per second", DefaultValueFactory = _ => 4 };
        var nodes = new Option<int>("--nodes") { Description = "Node processes", DefaultValueFactory = _ => 3 };
        var lease = new Option<int>("--lease-ms") { Description = "The nodes' lease duration; a frozen node stays frozen longer than this", DefaultValueFactory = _ => 3000 };
        var concurrency = new Option<int>("--concurrency") { Description = "Runs each node executes at once", DefaultValueFactory = _ => 8 };
        var drain = new Option<int>("--drain-timeout") { Description = "Seconds the nodes may take, once the faults stop, to finish every run", DefaultValueFactory = _ => 120 };
        var json = new Option<string?>("--json") { Description = "Also write the report to this JSON file" };
        var keep = new Option<bool>("--keep") { Description = "Keep the journals and node logs (the folder is printed)" };
        var command = new Command("chaos", "Cairn chaos soak: nodes on PostgreSQL under load and combined faults, then the invariants")
        {
            duration, seed, rate, nodes, lease, concurrency, drain, json, keep,
        };
        command.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(duration) < 10 || parse.GetValue(rate) <= 0 || parse.GetValue(nodes) < 2 || parse.GetValue(lease) < 500 || parse.GetValue(concurrency) < 1 || parse.GetValue(drain) < 1)
            {
                throw new ArgumentException("--duration must be 10 or more, --rate above 0, --nodes 2 or more, --lease-ms 500 or more, --concurrency and --drain-timeout 1 or more.");
            }

            var folder = Directory.CreateTempSubdirectory("cairn-chaos-").FullName;
            var settings = new ChaosSettings(
                TimeSpan.FromSeconds(parse.GetValue(duration)),
                parse.GetValue(seed) ?? Random.Shared.Next(1, 1_000_000),
                parse.GetValue(rate),
                parse.GetValue(nodes),
                TimeSpan.FromMilliseconds(parse.GetValue(lease)),
                parse.GetValue(concurrency),
                TimeSpan.FromSeconds(parse.GetValue(drain)),
                folder);
            AnsiConsole.Write(new Rule("[bold]Cairn chaos soak[/]").LeftJustified());
            AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
                $"Seed [blue]{settings.Seed}[/], {settings.Duration.TotalSeconds:F0} s, {settings.Rate:0.##} runs/s, {settings.Nodes} nodes ({settings.Concurrency} runs each at once, lease {settings.Lease.TotalSeconds:0.#} s); folder [blue]{Markup.Escape(folder)}[/]."));
            ChaosReport report;
            try
            {
                report = await new ChaosDriver(settings, AnsiConsole.Console).RunAsync(ct);
            }
            finally
            {
                if (!parse.GetValue(keep))
                {
                    Directory.Delete(folder, recursive: true);
                }
            }

            Print(report);
            if (parse.GetValue(json) is { } jsonPath)
            {
                await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(report, CrashTestCommand.JsonOptions), ct);
                AnsiConsole.MarkupLine($"Report written to [blue]{Markup.Escape(Path.GetFullPath(jsonPath))}[/].");
            }

            return Verdict.Print(report.Violations.Count, $"{report.Runs.Started} runs and {report.FaultsInjected.Values.Sum()} faults (seed {report.Seed})");
        });
        return command;
    }

    private static void Print(ChaosReport report)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumns("Chaos soak", "");
        table.AddRow("seed", $"{report.Seed}");
        table.AddRow("soak", string.Create(CultureInfo.InvariantCulture,
            $"{report.DurationSeconds:F0} s at {report.Rate:0.##} runs/s on {report.Nodes} nodes ({report.NodeProcesses} processes), drained in {report.DrainSeconds:F1} s, {report.ElapsedSeconds:F1} s in all"));
        foreach (var kind in Enum.GetValues<FaultKind>())
        {
            var scheduled = report.FaultsScheduled[kind];
            table.AddRow($"faults: {Markup.Escape(FaultInjector.Describe(kind))}", $"{report.FaultsInjected[kind]} of {scheduled} scheduled");
        }

        var runs = report.Runs;
        table.AddRow("runs", $"{runs.Started} started, {runs.Completed} completed, {runs.Compensated} compensated, {runs.Failed} failed, {runs.NotEnded} not ended; {runs.Children} child runs");
        table.AddRow("completed by flow", Markup.Escape(string.Join(", ", report.CompletedByFlow.Select(p => $"{p.Key} {p.Value}"))));
        table.AddRow("completed per 10 s", Markup.Escape(string.Join(" ", report.Throughput.Select(b => b.Completed))));
        var journals = report.Journals;
        table.AddRow("journals", $"{journals.StageStarts:N0} stage starts, {journals.Commits:N0} commits, {journals.Deliveries:N0} deliveries ({journals.TornLines} torn lines); {journals.EffectRows:N0} effect rows");
        table.AddRow("redone", $"{journals.Resumes:N0} attempts after a run's first; {journals.StagesRunAgain:N0} stages started in more than one attempt");
        table.AddRow("store checks", $"{report.StoreChecks} ({report.CheckpointsVerified:N0} checkpoint checksums)");
        foreach (var (kind, count) in report.ViolationsByKind)
        {
            table.AddRow($"violations: {Markup.Escape(Violation.Describe(kind))}", count == 0 ? "[green]0[/]" : $"[red]{count}[/]");
        }

        AnsiConsole.Write(table);
        foreach (var note in report.Notes.Take(10))
        {
            AnsiConsole.MarkupLine($"[grey]note: {Markup.Escape(note)}[/]");
        }

        foreach (var ended in report.Ended.Take(10))
        {
            AnsiConsole.MarkupLine($"[yellow]ended: {Markup.Escape(ended)}[/]");
        }

        CrashTestCommand.PrintViolations(report.Violations);
    }
}
