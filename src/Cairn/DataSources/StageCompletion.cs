namespace Cairn.DataSources;

/// <summary>The record that a stage bound to a data source committed: written in the stage's own transaction, last before COMMIT.</summary>
/// <param name="RunId">The run.</param>
/// <param name="StageKey">The stage's name and the iterations of the loops around it: <c>load-order:17</c>.</param>
/// <param name="Attempt">The attempt that committed it.</param>
/// <param name="State">The state the stage produced, serialized by the engine's serializer.</param>
/// <param name="Outbox">The outbox messages the stage added, serialized; null for none.</param>
/// <param name="CompletedAt">When it was committed, by the engine's clock.</param>
internal sealed record StageCompletion(RunId RunId, string StageKey, int Attempt, byte[] State, byte[]? Outbox, DateTimeOffset CompletedAt);
