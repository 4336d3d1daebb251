namespace Cairn.Storage;

/// <summary>The outcome of <see cref="RunStore.CreateRunAsync"/>.</summary>
/// <param name="Run">The created run, or the existing run of the same flow with the same recovery ID.</param>
/// <param name="Created">Whether the run was created now.</param>
/// <param name="Lease">
/// The lease of a run created now already claimed (<see cref="NewRun.ClaimFor"/>); null when the run was not created
/// now or not claimed.
/// </param>
public sealed record CreateRunResult(RunRecord Run, bool Created, RunLease? Lease = null);
