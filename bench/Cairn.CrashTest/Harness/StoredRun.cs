namespace Cairn.CrashTest.Harness;

/// <summary>A run as the checkers read it from the store, with its result once it has one.</summary>
internal sealed record StoredRun(Guid Id, string FlowName, string RecoveryId, RunStatus Status, int Attempt, string? LastError, byte[]? Result);
