using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cairn.Cli.Commands;

/// <summary>
/// The <c>--json</c> output of <c>runs list</c> and <c>runs show</c>, for scripts: camel-case names, statuses and event
/// kinds as their names, times in ISO 8601 UTC, one document on standard output and nothing else.
/// </summary>
internal static class RunsJson
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static Option<bool> Option() => new("--json") { Description = "Write JSON for scripts instead of tables" };

    public static void Write<T>(T value)
    {
        Console.Out.WriteLine(JsonSerializer.Serialize(value, Options));
        Console.Out.Flush();
    }

    /// <param name="run">The run.</param>
    /// <param name="ownerAlive">Whether its owner lives, for a running run.</param>
    public static RunJson Run(RunInfo run, bool ownerAlive) => new(
        run.Id.ToString(), run.FlowName, run.FlowVersion, run.RecoveryId, run.Status, run.Attempt, run.RetriesUsed, run.LastRecoveryPoint,
        run.StatusMessage, run.LastError, run.Owner, run.Status == RunStatus.Running ? ownerAlive : null, run.CreatedAt, run.UpdatedAt,
        run.DueAt, run.FinishedAt);

    public static EventJson Event(RunEvent e) => new(e.Time, e.Kind, e.Attempt, e.RecoveryPoint, e.Message);

    public static CheckpointJson Checkpoint(CheckpointSummary c) => new(c.Sequence, c.RecoveryPoint, c.StatusMessage, c.CreatedAt, c.StateSize);

    /// <summary>One run as a row of the status list.</summary>
    /// <param name="OwnerAlive">For a running run, whether its owner's lease still holds; null otherwise.</param>
    internal sealed record RunJson(
        string Id, string Flow, int FlowVersion, string RecoveryId, RunStatus Status, int Attempt, int RetriesUsed, string? LastRecoveryPoint,
        string? StatusMessage, string? LastError, string? Owner, bool? OwnerAlive, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
        DateTimeOffset? DueAt, DateTimeOffset? FinishedAt);

    internal sealed record EventJson(DateTimeOffset Time, RunEventKind Kind, int Attempt, string? RecoveryPoint, string Message);

    internal sealed record CheckpointJson(long Sequence, string RecoveryPoint, string? StatusMessage, DateTimeOffset CreatedAt, long StateSize);

    /// <summary>The state shown with a run.</summary>
    /// <param name="Source">Where it comes from: <c>result</c>, <c>checkpoint</c> or <c>input</c>.</param>
    /// <param name="ChecksumMatches">For a checkpoint's state, whether it passes its checksum; null otherwise.</param>
    /// <param name="Value">The state as JSON; null when left out (<c>--state none</c>, or longer than the lines allowed) or not JSON.</param>
    /// <param name="Omitted">Why <paramref name="Value"/> is null, if it is.</param>
    internal sealed record StateJson(string Source, string? RecoveryPoint, long? CheckpointSequence, long Size, bool? ChecksumMatches, JsonElement? Value, string? Omitted);

    internal sealed record ShowJson(RunJson Run, IReadOnlyList<EventJson> Events, IReadOnlyList<CheckpointJson> Checkpoints, StateJson? State);
}
