namespace Cairn.Bench.Workloads;

/// <summary>What the workloads share.</summary>
internal static class Workload
{
    public static void AddRow(Table table, string name, Percentiles p) => table.AddRow(
        Markup.Escape(name), Format.Count(p.Count), Format.Micros(p.P50Us), Format.Micros(p.P90Us), Format.Micros(p.P99Us), Format.Micros(p.MaxUs), Format.Micros(p.MeanUs));

    public static void EnsureCompleted<TState>(RunOutcome<TState> outcome)
    {
        if (!outcome.IsCompleted)
        {
            throw new InvalidOperationException($"Run {outcome.RunId} ended {outcome.Status}: {outcome.Error}");
        }
    }

    /// <summary>How many of the flow's runs (at most <paramref name="runs"/> of them) have <paramref name="status"/> and match <paramref name="predicate"/>.</summary>
    public static async Task<int> CountAsync(RunStore reader, string flowName, RunStatus status, int runs, Func<RunRecord, bool> predicate, CancellationToken cancellationToken)
    {
        var found = await ((IRunQueries)reader).ListRunsAsync(new RunQuery { Statuses = [status], FlowName = flowName, Limit = runs + 1 }, cancellationToken);
        return found.Count(predicate);
    }

    /// <summary>
    /// The number of the flow's runs that are Completed, which must be all <paramref name="runs"/> of them after
    /// <paramref name="after"/> ("the restart"): a workload of interrupted runs measures nothing otherwise.
    /// </summary>
    public static async Task<int> EnsureAllCompletedAsync(RunStore reader, string flowName, int runs, string after, CancellationToken cancellationToken)
    {
        var completed = await CountAsync(reader, flowName, RunStatus.Completed, runs, _ => true, cancellationToken);
        if (completed != runs)
        {
            throw new InvalidOperationException($"After {after}, {completed:N0} runs instead of {runs:N0} are Completed.");
        }

        return completed;
    }

    /// <summary>
    /// Prints a workload's figures as a table of what was measured and its value, ending with how many runs the store
    /// holds as Completed afterwards, and writes the report.
    /// </summary>
    public static async Task ReportAsync(string workload, BenchStore store, BenchSettings settings, object parameters, IWorkloadResults results, CancellationToken cancellationToken)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumns("measured", "value");
        foreach (var (measured, value) in results.Figures())
        {
            table.AddRow(measured, value);
        }

        table.AddRow("runs Completed in the store afterwards", Format.Count(results.CompletedInStore));
        AnsiConsole.Write(table);
        await BenchReport.Create(workload, store, parameters, results).WriteAsync(settings, cancellationToken);
    }

    /// <summary>The time from <paramref name="from"/> until the first and until the last run completed: the second in bold, what a workload of interrupted runs is about.</summary>
    public static (string Measured, string Value)[] Completions(string from, string where, double firstSeconds, double allSeconds) =>
    [
        ($"{from} → first run completed{where}", Format.Seconds(firstSeconds)),
        ($"[bold]{from} → all runs completed{where}[/]", $"[bold]{Format.Seconds(allSeconds)}[/]"),
    ];

    public static string Describe(BenchSettings settings) =>
        $"durability {settings.Durability}, group commit {(settings.GroupCommit ? "on" : "off")}{(settings.GroupCommitWriters is { } writers ? $", {writers} writers" : "")}" +
        (MachineInfo.Current().RuntimeSettings is { Count: > 0 } runtime ? ", runtime " + string.Join(" ", runtime.Select(s => $"{s.Key}={s.Value}")) : "");
}

/// <summary>What a workload measured: its report's figures, and how many of its runs the store holds as Completed afterwards.</summary>
internal interface IWorkloadResults
{
    int CompletedInStore { get; }

    /// <summary>The rows of the report's table: what was measured, and its value (Spectre markup).</summary>
    IEnumerable<(string Measured, string Value)> Figures();
}
