namespace Cairn.Flows;

/// <summary>What a stage can ask of the run it is in, to make itself idempotent.</summary>
/// <param name="IsResumed">Whether this attempt continues earlier work (a retry, a resume after a crash, a re-run).</param>
/// <param name="ResumedFrom">The recovery point the attempt resumed from, or null when it started at the beginning.</param>
/// <param name="Attempt">The attempt number, starting at 1.</param>
/// <param name="LastError">The error that ended the previous attempt, if any.</param>
public sealed record RecoveryInfo(bool IsResumed, string? ResumedFrom, int Attempt, string? LastError);
