namespace Cairn.Bench;

/// <summary>One committed checkpoint: its recovery point and how long it took, from serialization to durable commit.</summary>
internal readonly record struct CheckpointSample(string RecoveryPoint, double Microseconds);
