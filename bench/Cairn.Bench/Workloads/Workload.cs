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

    public static string Describe(BenchSettings settings) =>
        $"durability {settings.Durability}, group commit {(settings.GroupCommit ? "on" : "off")}";
}
