namespace Cairn.Runs;

/// <summary>One of a run's checkpoints with its state, as an operator inspects it.</summary>
/// <param name="Checkpoint">The checkpoint without its state.</param>
/// <param name="State">The serialized state, as stored.</param>
/// <param name="ChecksumMatches">Whether the state still matches the checkpoint's checksum; false for a damaged or tampered checkpoint.</param>
public sealed record CheckpointState(CheckpointSummary Checkpoint, ReadOnlyMemory<byte> State, bool ChecksumMatches);
