namespace Cairn.Storage;

/// <summary>The outcome of <see cref="RunStore.CreateRunAsync"/>.</summary>
/// <param name="Run">The created run, or the existing run of the same flow with the same recovery ID.</param>
/// <param name="Created">Whether the run was created now.</param>
public sealed record CreateRunResult(RunRecord Run, bool Created);
