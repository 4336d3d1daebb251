using System.Globalization;
using System.Text;

namespace Cairn.Storage;

/// <summary>
/// The engine's rules that stores apply inside their own transactions, written once: which runs may be re-run or
/// cancelled, how a state's checksum is computed, and the wording of the events a store records.
/// </summary>
public static class StoreRules
{
    private const string StartedFormat = "attempt {0} started on {1}";
    private const string ResumedFormat = "attempt {0} resumed on {1} from recovery point '{2}'";
    private const string GoneFormat = "owner {0} is gone; the run will resume from its last recovery point";
    private static readonly CompositeFormat Started = CompositeFormat.Parse(StartedFormat);
    private static readonly CompositeFormat Resumed = CompositeFormat.Parse(ResumedFormat);
    private static readonly CompositeFormat Gone = CompositeFormat.Parse(GoneFormat);

    /// <summary>Whether a run in <paramref name="status"/> can be re-run: failed, waiting for a retry, interrupted or cancelled.</summary>
    public static bool CanRerun(RunStatus status) =>
        status is RunStatus.Failed or RunStatus.WaitingForRetry or RunStatus.Interrupted or RunStatus.Cancelled or RunStatus.Waiting;

    /// <summary>Whether a run in <paramref name="status"/> can be cancelled: any but completed, already cancelled or compensated.</summary>
    public static bool CanCancel(RunStatus status) => status is not (RunStatus.Completed or RunStatus.Cancelled or RunStatus.Compensated);

    /// <summary>Whether a run in <paramref name="status"/> can be asked to compensate: as <see cref="CanCancel"/>.</summary>
    public static bool CanCompensate(RunStatus status) => CanCancel(status);

    /// <summary>Throws unless a run in <paramref name="status"/> can be asked to compensate.</summary>
    /// <exception cref="InvalidRunStateException">It cannot.</exception>
    public static void EnsureCanCompensate(RunId runId, RunStatus status)
    {
        if (!CanCompensate(status))
        {
            throw new InvalidRunStateException(runId, status, "compensated", "unfinished or failed");
        }
    }

    /// <summary>
    /// The stable ID of an outbox message: made from the run, the checkpoint it is committed with and its place there, so
    /// that every delivery of one message, on any node, carries the same ID (a UUID of version 8, from SHA-256).
    /// </summary>
    public static Guid OutboxMessageId(RunId runId, long checkpointSequence, int index)
    {
        Span<byte> hash = stackalloc byte[32];
        System.Security.Cryptography.SHA256.HashData(
            Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"cairn-outbox:{runId}:{checkpointSequence}:{index}")), hash);
        var bytes = hash[..16];
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80); // version 8 (custom)
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80); // RFC 9562 variant
        return new Guid(bytes, bigEndian: true);
    }

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

    /// <summary>The message of the <see cref="RunEventKind.Created"/> event.</summary>
    /// <param name="recoveryId">The new run's recovery ID.</param>
    public static string CreatedMessage(string recoveryId) => $"run created for recovery ID '{recoveryId}'";

    /// <summary>The message of the <see cref="RunEventKind.Started"/> event a claim records.</summary>
    /// <param name="run">The run as it was before the claim.</param>
    /// <param name="owner">The node that claims it.</param>
    public static string StartedMessage(RunRecord run, string owner)
    {
        ArgumentNullException.ThrowIfNull(run);
        return run.LastRecoveryPoint is null
            ? string.Format(CultureInfo.InvariantCulture, Started, run.Attempt + 1, owner)
            : string.Format(CultureInfo.InvariantCulture, Resumed, run.Attempt + 1, owner, run.LastRecoveryPoint);
    }

    /// <summary>
    /// The wording of <see cref="StartedMessage"/> as a composite format string, for a store that words the event inside
    /// the database: <c>{0}</c> is the new attempt's number, <c>{1}</c> the owner, <c>{2}</c> the recovery point.
    /// </summary>
    /// <param name="resumed">Whether the run resumes from a recovery point.</param>
    public static string StartedMessageFormat(bool resumed) => resumed ? ResumedFormat : StartedFormat;

    /// <summary>The message of the <see cref="RunEventKind.Interrupted"/> event of a run whose owner is gone.</summary>
    /// <param name="owner">The run's owner, if it had one.</param>
    public static string InterruptedMessage(string? owner) => string.Format(CultureInfo.InvariantCulture, Gone, owner);

    /// <summary>
    /// The wording of <see cref="InterruptedMessage"/> as a composite format string, for a store that words the event
    /// inside the database: <c>{0}</c> is the owner.
    /// </summary>
    public static string InterruptedMessageFormat => GoneFormat;

    /// <summary>
    /// Whether a run in <paramref name="status"/> waits to be claimed when due: pending, waiting for a retry, interrupted,
    /// or waiting for a timer or a signal.
    /// </summary>
    public static bool IsClaimable(RunStatus status) =>
        status is RunStatus.Pending or RunStatus.WaitingForRetry or RunStatus.Interrupted or RunStatus.Waiting;

    /// <summary>Refuses a signal for a run that has finished: nothing would ever take it.</summary>
    /// <exception cref="InvalidRunStateException">The run has finished.</exception>
    public static void EnsureCanSignal(RunId runId, RunStatus status)
    {
        if (status.IsFinished())
        {
            throw new InvalidRunStateException(runId, status, "signalled", "unfinished");
        }
    }

    /// <summary>The message of the <see cref="RunEventKind.Signalled"/> event a kept signal records.</summary>
    public static string SignalledMessage(RunSignal signal)
    {
        ArgumentNullException.ThrowIfNull(signal);
        return string.Create(CultureInfo.InvariantCulture, $"signal '{signal.Name}' received (ID {signal.Id}, {signal.Payload.Length} bytes of payload)");
    }

    /// <summary>The message of the <see cref="RunEventKind.RecoveryPointPassed"/> event a checkpoint records.</summary>
    public static string RecoveryPointPassedMessage(Checkpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        return checkpoint.StatusMessage is null
            ? $"recovery point '{checkpoint.RecoveryPoint}' passed"
            : $"recovery point '{checkpoint.RecoveryPoint}' passed: {checkpoint.StatusMessage}";
    }

    /// <summary>The run a store creates: pending, due at once (<see cref="Claimed"/> turns it into a run created already claimed).</summary>
    /// <param name="run">What to create.</param>
    /// <param name="now">The store's time of the creation.</param>
    public static RunRecord NewRunRecord(NewRun run, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(run);
        return new RunRecord
        {
            Id = run.Id,
            FlowName = run.FlowName,
            FlowVersion = run.FlowVersion,
            RecoveryId = run.RecoveryId,
            Status = RunStatus.Pending,
            CreatedAt = now,
            UpdatedAt = now,
            DueAt = now,
            InputChecksum = run.InputChecksum,
            Settings = run.Settings,
        };
    }

    /// <summary>A run as a claim leaves it: running its next attempt under a new lease epoch, no longer due.</summary>
    /// <param name="run">The run before the claim.</param>
    /// <param name="owner">The node that claims it.</param>
    /// <param name="leaseExpiresAt">When the lease expires unless renewed.</param>
    /// <param name="now">The store's time of the claim.</param>
    public static RunRecord Claimed(RunRecord run, string owner, DateTimeOffset leaseExpiresAt, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(run);
        return run with
        {
            Status = RunStatus.Running,
            Attempt = run.Attempt + 1,
            Owner = owner,
            LeaseEpoch = run.LeaseEpoch + 1,
            LeaseExpiresAt = leaseExpiresAt,
            DueAt = null,
            UpdatedAt = now,
        };
    }

    /// <summary>A run as a re-run request leaves it: pending and due at once, from where it is.</summary>
    /// <param name="run">The run before the request.</param>
    /// <param name="now">The store's time of the request.</param>
    public static RunRecord Rerun(RunRecord run, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(run);
        return run with { Status = RunStatus.Pending, DueAt = now, FinishedAt = null, UpdatedAt = now };
    }

    /// <summary>A run as a re-run from a chosen checkpoint leaves it: pending, due at once, at the checkpoint's copy.</summary>
    /// <param name="run">The run before the request.</param>
    /// <param name="position">The chosen checkpoint's position.</param>
    /// <param name="recoveryPoint">The chosen checkpoint's recovery point.</param>
    /// <param name="statusMessage">The chosen checkpoint's status message.</param>
    /// <param name="copySequence">The sequence number of its copy, which the run resumes from.</param>
    /// <param name="now">The store's time of the request.</param>
    public static RunRecord RerunFrom(
        RunRecord run, FlowPath position, string recoveryPoint, string? statusMessage, long copySequence, DateTimeOffset now) =>
        Rerun(run, now) with
        {
            Position = position.ToString(),
            LastRecoveryPoint = recoveryPoint,
            StatusMessage = statusMessage,
            CheckpointSequence = copySequence,
        };

    /// <summary>
    /// A run as a request to compensate leaves it: pending and due at once at the checkpoint copy that asks for the
    /// compensations, its lease fenced off so that an attempt still running cannot write.
    /// </summary>
    /// <param name="run">The run before the request.</param>
    /// <param name="copySequence">The sequence number of the checkpoint copy.</param>
    /// <param name="now">The store's time of the request.</param>
    public static RunRecord CompensationRequested(RunRecord run, long copySequence, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(run);
        return Rerun(run, now) with { LeaseEpoch = run.LeaseEpoch + 1, LeaseExpiresAt = null, CheckpointSequence = copySequence };
    }

    /// <summary>A run as cancelling leaves it: finished, its lease fenced off so that an attempt still running cannot write.</summary>
    /// <param name="run">The run before it was cancelled.</param>
    /// <param name="now">The store's time of the cancellation.</param>
    public static RunRecord Cancelled(RunRecord run, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(run);
        return run with
        {
            Status = RunStatus.Cancelled,
            LeaseEpoch = run.LeaseEpoch + 1,
            LeaseExpiresAt = null,
            DueAt = null,
            FinishedAt = now,
            UpdatedAt = now,
        };
    }
}
