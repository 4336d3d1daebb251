namespace Cairn.CrashTest.Harness;

/// <summary>One broken invariant, with what was seen.</summary>
internal sealed record Violation(ViolationKind Kind, string Details)
{
    /// <summary>How the summary and the violation list name each kind.</summary>
    public static string Describe(ViolationKind kind) => kind switch
    {
        ViolationKind.RunLost => "run lost",
        ViolationKind.WrongFinalState => "wrong final state",
        ViolationKind.StageRepeated => "stage ran twice before a committed recovery point",
        ViolationKind.ChecksumMismatch => "checkpoint fails its checksum",
        ViolationKind.IntegrityCheck => "PRAGMA integrity_check failed",
        _ => "unexpected error",
    };
}
