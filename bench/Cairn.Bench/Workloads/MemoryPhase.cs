namespace Cairn.Bench.Workloads;

/// <summary>What a <c>memory-child</c> process measured in one phase, in bytes of resident memory (RSS).</summary>
/// <param name="Phase">save or restore.</param>
/// <param name="BaselineBytes">RSS with the engine built and warmed up, before the state exists.</param>
/// <param name="StateBuiltBytes">RSS right after the first stage built the state (save only; 0 for restore).</param>
/// <param name="PeakBytes">Peak RSS (VmHWM) from the baseline to the stage after the recovery point.</param>
/// <param name="AfterBytes">RSS in the stage after the recovery point (the state is in memory, garbage not yet collected).</param>
/// <param name="PeakWasReset">Whether the peak was reset at the baseline (else it is the peak since the process started).</param>
/// <param name="SerializedBytes">The serialized state the recovery point saved (save only; 0 for restore).</param>
/// <param name="Seconds">Save: state built → checkpoint committed. Restore: engine start → state restored.</param>
internal sealed record MemoryPhase(
    string Phase,
    long BaselineBytes,
    long StateBuiltBytes,
    long PeakBytes,
    long AfterBytes,
    bool PeakWasReset,
    long SerializedBytes,
    double Seconds);
