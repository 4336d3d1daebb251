namespace Cairn.CrashTest.Harness;

/// <summary>One broken invariant, with what was seen.</summary>
internal sealed record Violation(ViolationKind Kind, string Details)
{
    /// <summary>The invariants the crash test checks, in its report's order.</summary>
    public static readonly IReadOnlyList<ViolationKind> CrashTestKinds =
    [
        ViolationKind.RunLost, ViolationKind.WrongFinalState, ViolationKind.StageRepeated, ViolationKind.ChecksumMismatch, ViolationKind.IntegrityCheck, ViolationKind.UnexpectedError,
    ];

    /// <summary>The invariants the chaos soak checks, in its report's order.</summary>
    public static readonly IReadOnlyList<ViolationKind> ChaosKinds =
    [
        ViolationKind.RunNotEnded, ViolationKind.RunLost, ViolationKind.WrongFinalState, ViolationKind.StageRepeated, ViolationKind.EffectNotOnce,
        ViolationKind.MessageLost, ViolationKind.MessageWrong, ViolationKind.WriteAfterTakeover, ViolationKind.CommitLost, ViolationKind.ChecksumMismatch,
        ViolationKind.UnexpectedError, ViolationKind.VacuousSoak,
    ];

    /// <summary>How the summary and the violation list name each kind.</summary>
    public static string Describe(ViolationKind kind) => kind switch
    {
        ViolationKind.RunLost => "run lost",
        ViolationKind.WrongFinalState => "wrong final state",
        ViolationKind.StageRepeated => "stage ran twice before a committed recovery point",
        ViolationKind.ChecksumMismatch => "checkpoint fails its checksum",
        ViolationKind.IntegrityCheck => "PRAGMA integrity_check failed",
        ViolationKind.RunNotEnded => "run did not end",
        ViolationKind.EffectNotOnce => "transactional effect not exactly once",
        ViolationKind.MessageLost => "outbox message not delivered",
        ViolationKind.MessageWrong => "outbox message delivered under several IDs or never committed",
        ViolationKind.WriteAfterTakeover => "write accepted after the lease was taken over",
        ViolationKind.CommitLost => "committed checkpoint missing from the store",
        ViolationKind.VacuousSoak => "soak proved nothing",
        _ => "unexpected error",
    };
}
