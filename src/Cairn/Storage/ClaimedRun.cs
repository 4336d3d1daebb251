namespace Cairn.Storage;

/// <summary>A run an engine has claimed, with the lease that fences its writes.</summary>
/// <param name="Run">The run after the claim (status <see cref="RunStatus.Running"/>).</param>
/// <param name="Lease">The lease.</param>
public sealed record ClaimedRun(RunRecord Run, RunLease Lease);
