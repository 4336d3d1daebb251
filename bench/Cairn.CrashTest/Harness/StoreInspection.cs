namespace Cairn.CrashTest.Harness;

/// <summary>What one look at the store found: how many checkpoints were verified, and what was wrong.</summary>
internal sealed record StoreInspection(int CheckpointsVerified, IReadOnlyList<Violation> Violations);
