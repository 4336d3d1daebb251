namespace Cairn.Testing;

/// <summary>What a crash sweep did: the boundaries the crash-free run passed, and a case per boundary.</summary>
/// <param name="Boundaries">The boundaries of the crash-free run, in the order it passed them.</param>
/// <param name="CasesRun">How many crash cases ran: one per boundary.</param>
/// <param name="CrashFreeRun">The journal of the crash-free run.</param>
public sealed record CrashSweepReport(IReadOnlyList<CrashBoundary> Boundaries, int CasesRun, CrashJournal CrashFreeRun)
{
    /// <summary>Reads as <c>12 crash cases over 12 boundaries</c>.</summary>
    public override string ToString() => $"{CasesRun} crash case(s) over {Boundaries.Count} boundar{(Boundaries.Count == 1 ? "y" : "ies")}";
}
