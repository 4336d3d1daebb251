namespace Cairn.Storage;

/// <summary>What a run resumes from: its input and its latest checkpoint.</summary>
/// <param name="Input">The serialized input, or null once the run completed.</param>
/// <param name="Checkpoint">The latest checkpoint, or null before the first recovery point.</param>
public sealed record RecoveryData(ReadOnlyMemory<byte>? Input, Checkpoint? Checkpoint);
