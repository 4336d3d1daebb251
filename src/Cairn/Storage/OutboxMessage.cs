namespace Cairn.Storage;

/// <summary>
/// A message a stage added to the outbox (<see cref="Flows.StageOutbox"/>): committed with the run's next checkpoint (or
/// with a transactional stage's transaction, or with the run's completion) and delivered after that commit by the
/// engine's outbox dispatcher, at least once, in order per run.
/// </summary>
/// <param name="Id">The message's stable ID: the same on every delivery of the message (<see cref="StoreRules.OutboxMessageId"/>).</param>
/// <param name="RunId">The run that added it.</param>
/// <param name="CheckpointSequence">The sequence number of the checkpoint it was committed with (for a completion: one after the last).</param>
/// <param name="Index">Its place among the messages committed with that checkpoint, from 0.</param>
/// <param name="Destination">Where it goes: the name a publisher is registered under.</param>
/// <param name="Payload">The message's body (JSON when added as an object).</param>
public sealed record OutboxMessage(Guid Id, RunId RunId, long CheckpointSequence, int Index, string Destination, ReadOnlyMemory<byte> Payload)
{
    /// <summary>Pending until delivered (then deleted) or dead-lettered.</summary>
    public OutboxStatus Status { get; init; }

    /// <summary>How many deliveries were started (a claim counts as one).</summary>
    public int Attempts { get; init; }

    /// <summary>When the message was committed (set by the store).</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When a pending message may next be delivered (set by the store).</summary>
    public DateTimeOffset? DueAt { get; init; }

    /// <summary>Why the last delivery failed.</summary>
    public string? LastError { get; init; }
}

/// <summary>Where an outbox message is.</summary>
public enum OutboxStatus
{
    /// <summary>Waiting to be delivered, being delivered, or waiting for a retry.</summary>
    Pending = 0,

    /// <summary>Every delivery allowed failed; it waits for an operator to re-drive it.</summary>
    DeadLettered = 1,
}

/// <summary>Which outbox messages to list, for operators.</summary>
public sealed record OutboxQuery
{
    /// <summary>Only messages with this status; null for all.</summary>
    public OutboxStatus? Status { get; init; }

    /// <summary>Only the messages of this run; null for all.</summary>
    public RunId? RunId { get; init; }

    /// <summary>The most messages returned, oldest first. Default 100.</summary>
    public int Limit { get; init; } = 100;
}
