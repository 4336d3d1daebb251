using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Cairn.CrashTest.Harness;
using Microsoft.Data.Sqlite;

namespace Cairn.CrashTest.Commands;

/// <summary>
/// The crash test's root command (<c>dotnet run --project bench/Cairn.CrashTest -- --kills 1000</c>): runs a mix of flows in worker processes, SIGKILLs them at random and targeted moments until
/// every run has completed, then checks that nothing was lost, repeated or corrupted. Exit code 0: no violation;
/// 2: violations; 3: <c>--broken</c> was not caught.
/// </summary>
internal static class CrashTestCommand
{
    /// <summary>How the reports are written as JSON (the chaos soak's too).</summary>
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    /// <summary>The root command, to which the worker commands it starts are added.</summary>
    public static RootCommand CreateRoot()
    {
        var store = new Option<string?>("--store", "-s") { Description = "The SQLite file to create (it must not exist). Default: a temporary file, deleted afterwards unless --keep" };
        var kills = new Option<int>("--kills") { Description = "How many times to SIGKILL a worker", DefaultValueFactory = _ => 100 };
        var runs = new Option<int>("--runs") { Description = "Runs per round; a new round starts when a round has finished and kills remain", DefaultValueFactory = _ => 100 };
        var seed = new Option<int?>("--seed") { Description = "Seed of the kill plan and the runs' inputs. Default: random (printed)" };
        var concurrency = new Option<int>("--concurrency") { Description = "Runs a worker executes at once (the engine's MaxConcurrentRuns)", DefaultValueFactory = _ => 16 };
        var maxDelay = new Option<int>("--max-delay-ms") { Description = "Longest random delay before a random kill", DefaultValueFactory = _ => 500 };
        var broken = new Option<bool>("--broken") { Description = "Sabotage the store after each kill (forget a committed checkpoint): the check must report violations" };
        var json = new Option<string?>("--json") { Description = "Also write the report to this JSON file" };
        var keep = new Option<bool>("--keep") { Description = "Keep the temporary store and journal" };
        var command = new RootCommand("Cairn crash test: kill worker processes running a flow mix at random moments, then check that no run was lost, repeated or corrupted")
        {
            store, kills, runs, seed, concurrency, maxDelay, broken, json, keep,
        };
        command.SetAction(async (parse, ct) =>
        {
            var killCount = parse.GetValue(kills);
            var runCount = parse.GetValue(runs);
            var workers = parse.GetValue(concurrency);
            var delay = parse.GetValue(maxDelay);
            if (killCount < 0 || runCount < 1 || workers < 1 || delay < 0)
            {
                throw new ArgumentException("--kills and --max-delay-ms must be 0 or more, --runs and --concurrency 1 or more.");
            }

            var storeArgument = parse.GetValue(store);
            string? temporary = null;
            string storePath;
            if (storeArgument is null)
            {
                temporary = Directory.CreateTempSubdirectory("cairn-crash-test-").FullName;
                storePath = Path.Combine(temporary, "crash-test.db");
            }
            else
            {
                storePath = Path.GetFullPath(storeArgument);
                if (File.Exists(storePath))
                {
                    throw new IOException($"'{storePath}' exists; the crash test needs a fresh store. Pass a new path or leave out --store.");
                }
            }

            var settings = new CrashTestSettings(
                storePath,
                storePath + ".journal",
                killCount,
                runCount,
                parse.GetValue(seed) ?? Random.Shared.Next(1, 1_000_000),
                workers,
                TimeSpan.FromMilliseconds(delay),
                parse.GetValue(broken));
            File.Delete(settings.JournalPath);
            AnsiConsole.Write(new Rule($"[bold]Cairn crash test{(settings.Broken ? " [yellow](broken mode)[/]" : "")}[/]").LeftJustified());
            AnsiConsole.MarkupLine(
                $"Store [blue]{Markup.Escape(storePath)}[/], seed [blue]{settings.Seed}[/], {killCount} kills, {runCount} runs per round of " +
                $"{CrashFlowMix.Plans.Count} flows ({string.Join(", ", CrashFlowMix.Plans.Select(p => $"{p.Name}: {p.StageCount} stages, {p.PointCount} recovery points{(p.ImplicitRecovery ? " (implicit)" : "")}"))}), " +
                $"{workers} at a time.");

            CrashTestReport report;
            try
            {
                report = await new CrashTestDriver(settings, AnsiConsole.Console).RunAsync(ct);
            }
            finally
            {
                if (temporary is not null && !parse.GetValue(keep))
                {
                    SqliteConnection.ClearAllPools();
                    Directory.Delete(temporary, recursive: true);
                }
            }

            Print(report);
            if (parse.GetValue(json) is { } jsonPath)
            {
                await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(report, JsonOptions), ct);
                AnsiConsole.MarkupLine($"Report written to [blue]{Markup.Escape(Path.GetFullPath(jsonPath))}[/].");
            }

            if (temporary is not null && parse.GetValue(keep))
            {
                AnsiConsole.MarkupLine($"Kept the store and journal in [blue]{Markup.Escape(temporary)}[/].");
            }

            var count = report.Violations.Count;
            if (settings.Broken)
            {
                if (count == 0)
                {
                    AnsiConsole.MarkupLine($"[red]0 violations: the broken mode ({report.Sabotaged} sabotaged runs) was NOT caught. The checker is blind.[/]");
                    return 3;
                }

                AnsiConsole.MarkupLine($"[yellow]{count} violations[/]: the broken mode was caught, as it must be ({report.Sabotaged} sabotaged runs).");
                return 2;
            }

            return Verdict.Print(count, $"{report.Kills} kills");
        });
        return command;
    }

    private static void Print(CrashTestReport report)
    {
        var moments = string.Join(", ", report.KillsByMoment.Select(p => $"{p.Key.ToString().ToLowerInvariant()} {p.Value}"));
        var table = new Table().Border(TableBorder.Rounded).AddColumns("Crash test", "");
        table.AddRow("kills", $"{report.Kills} of {report.KillsRequested}{(moments.Length > 0 ? $" ({Markup.Escape(moments)})" : "")}");
        table.AddRow("runs", $"{report.Runs} in {report.Rounds} rounds of {report.RunsPerRound}, {report.RunsCompleted} completed, {report.Concurrency} at a time");
        table.AddRow("worker processes", $"{report.WorkerProcesses} ({report.Restarts} restarts)");
        table.AddRow("stages started", $"{report.StagesStarted:N0}");
        table.AddRow("checkpoints committed", $"{report.CheckpointsCommitted:N0} ({report.CheckpointsJournaled:N0} journaled before a kill could intervene)");
        table.AddRow("store checks", $"{report.StoreChecks} (integrity_check and {report.CheckpointsVerified:N0} checkpoint checksums)");
        if (report.Broken)
        {
            table.AddRow("[yellow]sabotaged runs[/]", $"{report.Sabotaged}");
        }

        foreach (var (kind, count) in report.ViolationsByKind)
        {
            table.AddRow($"violations: {Markup.Escape(Violation.Describe(kind))}", count == 0 ? "[green]0[/]" : $"[red]{count}[/]");
        }

        table.AddRow("duration", $"{report.DurationSeconds:F1} s");
        AnsiConsole.Write(table);
        PrintViolations(report.Violations);
    }

    /// <summary>The violations by kind, ten of each at most (all of them are in the JSON report).</summary>
    public static void PrintViolations(IReadOnlyList<Violation> violations)
    {
        foreach (var group in violations.GroupBy(v => v.Kind))
        {
            AnsiConsole.MarkupLine($"[red]{Markup.Escape(Violation.Describe(group.Key))}[/] ({group.Count()}):");
            foreach (var violation in group.Take(10))
            {
                AnsiConsole.MarkupLine($"  {Markup.Escape(violation.Details)}");
            }

            if (group.Count() > 10)
            {
                AnsiConsole.MarkupLine($"  … and {group.Count() - 10} more{(violations.Count > 10 ? " (all of them in --json)" : "")}");
            }
        }
    }
}
