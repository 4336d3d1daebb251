using System.Globalization;

namespace Cairn.Storage;

/// <summary>
/// The engine's rules that stores apply inside their own transactions, written once: which runs may be re-run or
/// cancelled, how a state's checksum is computed, and the wording of the events a store records.
/// </summary>
public static class StoreRules
{
    /// <summary>Whether a run in <paramref name="status"/> can be re-run: failed, waiting for a retry, interrupted or cancelled.</summary>
    public static bool CanRerun(RunStatus status) =>
        status is RunStatus.Failed or RunStatus.WaitingForRetry or RunStatus.Interrupted or RunStatus.Cancelled;

    /// <summary>Whether a run in <paramref name="status"/> can be cancelled: any but completed or already cancelled.</summary>
    public static bool CanCancel(RunStatus status) => status is not (RunStatus.Completed or RunStatus.Cancelled);

    /// <summary>Throws unless a run in <paramref name="status"/> can be re-run.</summary>
    /// <exception cref="InvalidRunStateException">It cannot.</exception>
    public static void EnsureCanRerun(RunId runId, RunStatus status)
    {
        if (!CanRerun(status))
        {
            throw new InvalidRunStateException(runId, status, "re-run", "failed, waiting, interrupted or cancelled");
        }
    }

    /// <summary>Throws unless a run in <paramref name="status"/> can be cancelled.</summary>
    /// <exception cref="InvalidRunStateException">It cannot.</exception>
    public static void EnsureCanCancel(RunId runId, RunStatus status)
    {
        if (!CanCancel(status))
        {
            throw new InvalidRunStateException(runId, status, "cancelled", "unfinished or failed");
        }
    }

    /// <summary>The checksum of a state, as <see cref="Checkpoint.Checksum"/> holds it (SHA-256, lower-case hex).</summary>
    public static string StateChecksum(ReadOnlySpan<byte> state) => StateCodec.Checksum(state);

    /// <summary>The message of the <see cref="RunEventKind.RerunRequested"/> event <see cref="IRunOperations.RequestRerunFromAsync"/> records.</summary>
    /// <param name="message">The caller's message.</param>
    /// <param name="recoveryPoint">The chosen checkpoint's recovery point.</param>
    /// <param name="sequence">The chosen checkpoint's sequence number.</param>
    /// <param name="copySequence">The sequence number of its copy.</param>
    /// <param name="edited">Whether the copy holds an edited state.</param>
    public static string RerunFromMessage(string message, string recoveryPoint, long sequence, long copySequence, bool edited) =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"{message}: resumes from recovery point '{recoveryPoint}' (checkpoint {sequence}, copied as checkpoint {copySequence}) with {(edited ? "an edited state" : "its saved state")}");

    /// <summary>The message of the <see cref="RunEventKind.Started"/> event a claim records.</summary>
    public static string StartedMessage(RunRecord run, string owner)
    {
        ArgumentNullException.ThrowIfNull(run);
        return run.LastRecoveryPoint is null
            ? $"attempt {run.Attempt + 1} started on {owner}"
            : $"attempt {run.Attempt + 1} resumed on {owner} from recovery point '{run.LastRecoveryPoint}'";
    }

    /// <summary>The message of the <see cref="RunEventKind.RecoveryPointPassed"/> event a checkpoint records.</summary>
    public static string RecoveryPointPassedMessage(Checkpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        return checkpoint.StatusMessage is null
            ? $"recovery point '{checkpoint.RecoveryPoint}' passed"
            : $"recovery point '{checkpoint.RecoveryPoint}' passed: {checkpoint.StatusMessage}";
    }
}
