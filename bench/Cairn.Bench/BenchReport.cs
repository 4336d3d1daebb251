using System.Text.Json.Serialization;

namespace Cairn.Bench;

/// <summary>What a workload writes with <c>--json</c>: its settings, the machine, and its results.</summary>
internal sealed record BenchReport(
    string Workload,
    DateTimeOffset Date,
    string Store,
    string Durability,
    string GroupCommit,
    MachineInfo Machine,
    object Parameters,
    object Results)
{
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static BenchReport Create(string workload, BenchStore store, object parameters, object results) => new(
        workload,
        TimeProvider.System.GetUtcNow(),
        store.Description,
        store.Settings.Durability,
        store.Settings.GroupCommit ? store.Settings.GroupCommitWriters is { } writers ? $"on, {writers} writers" : "on" : "off",
        MachineInfo.Current(),
        parameters,
        results);

    /// <summary>Writes the report where <c>--json</c> says, if it says anywhere.</summary>
    public async Task WriteAsync(BenchSettings settings, CancellationToken cancellationToken)
    {
        if (settings.JsonPath is not { } path)
        {
            return;
        }

        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        await using (var file = File.Create(full))
        {
            await JsonSerializer.SerializeAsync(file, this, JsonOptions, cancellationToken);
        }

        AnsiConsole.MarkupLine($"Results written to [blue]{Markup.Escape(full)}[/].");
    }
}
