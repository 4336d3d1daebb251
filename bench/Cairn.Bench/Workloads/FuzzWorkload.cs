using Cairn.Tests.Serialization.Fuzzing;

namespace Cairn.Bench.Workloads;

/// <summary>
/// <c>fuzz</c>: the decoder fuzzing of the tests (<c>tests/Cairn.Tests/Serialization/Fuzzing</c>, compiled in) at a
/// larger count: every decoder of stored bytes and text gets <c>--cases</c> seeded cases of random bytes and mutated valid
/// encodings. Prints per decoder the cases, how many decoded and how many were rejected with the decoder's typed error,
/// the failures (another error, over the time bound, a hang) with the seeds that replay them, and the time taken.
/// Needs no store. Exit code 1 when a case failed.
/// </summary>
internal static class FuzzWorkload
{
    public static Command CreateCommand()
    {
        var cases = new Option<int>("--cases") { Description = "Cases per decoder", DefaultValueFactory = _ => 100_000 };
        var seed = new Option<int>("--seed") { Description = "The seed of the first case; case i has seed + i", DefaultValueFactory = _ => 12_000_000 };
        var bound = new Option<int>("--case-ms") { Description = "The time bound of one case, in milliseconds", DefaultValueFactory = _ => 1000 };
        var command = new Command("fuzz", "Fuzz every decoder of stored bytes and text with random and mutated input") { cases, seed, bound };
        command.SetAction((parse, _) => RunAsync(parse.GetValue(cases), parse.GetValue(seed), TimeSpan.FromMilliseconds(parse.GetValue(bound))));
        return command;
    }

    private static async Task<int> RunAsync(int cases, int seed, TimeSpan perCase)
    {
        if (cases < 1 || perCase <= TimeSpan.Zero)
        {
            throw new ArgumentException("--cases and --case-ms must be 1 or more.");
        }

        AnsiConsole.MarkupLine($"[bold]fuzz[/]: {cases:N0} cases per decoder from seed {seed}, each bounded by {perCase.TotalMilliseconds:N0} ms; {Markup.Escape(Machine())}");
        var table = new Table().Border(TableBorder.Rounded).AddColumns("decoder", "typed errors", "cases", "decoded", "rejected", "failures", "time");
        var failures = 0;
        foreach (var target in FuzzTargets.All)
        {
            var report = await FuzzRunner.RunAsync(target, cases, seed, perCase);
            failures += report.FailureCount;
            table.AddRow(
                Markup.Escape(report.Decoder), target.ExpectedErrors, Format.Count(report.Cases), Format.Count(report.Decoded), Format.Count(report.Rejected),
                Format.Count(report.FailureCount), string.Create(CultureInfo.InvariantCulture, $"{report.Elapsed.TotalSeconds:N1} s"));
            foreach (var failure in report.Failures)
            {
                AnsiConsole.MarkupLine($"  [red]{Markup.Escape(report.Decoder)}[/]: {Markup.Escape(failure)}");
            }
        }

        AnsiConsole.Write(table);
        return failures == 0 ? 0 : 1;
    }

    private static string Machine() => MachineInfo.Current() is var m ? $"{m.Processor}, {m.ProcessorCount} cores, {m.Runtime}" : "";
}
