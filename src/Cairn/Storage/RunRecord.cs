namespace Cairn.Storage;

/// <summary>A run as stored: its identity, status, ownership and the last recovery point it passed.</summary>
public sealed record RunRecord
{
    /// <summary>The run's ID.</summary>
    public required RunId Id { get; init; }

    /// <summary>The flow's name.</summary>
    public required string FlowName { get; init; }

    /// <summary>The flow's version when the run was created.</summary>
    public required int FlowVersion { get; init; }

    /// <summary>The caller's recovery ID.</summary>
    public required string RecoveryId { get; init; }

    /// <summary>Where the run is in its lifecycle.</summary>
    public required RunStatus Status { get; init; }

    /// <summary>How many attempts have been claimed (0 before the first).</summary>
    public int Attempt { get; init; }

    /// <summary>How many automatic retries were scheduled; manual re-runs do not count.</summary>
    public int RetriesUsed { get; init; }

    /// <summary>When the run was created.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the run last changed.</summary>
    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>When a pending or waiting run becomes due.</summary>
    public DateTimeOffset? DueAt { get; init; }

    /// <summary>When the run completed, failed or was cancelled.</summary>
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>The engine node that owns or last owned the run.</summary>
    public string? Owner { get; init; }

    /// <summary>The fencing counter: increased at every claim and cancel.</summary>
    public long LeaseEpoch { get; init; }

    /// <summary>When the owner's lease expires unless renewed.</summary>
    public DateTimeOffset? LeaseExpiresAt { get; init; }

    /// <summary>The position of the last committed recovery point (<see cref="FlowPath"/>'s stored form), empty at the start.</summary>
    public string Position { get; init; } = "";

    /// <summary>The name of the last committed recovery point, if any.</summary>
    public string? LastRecoveryPoint { get; init; }

    /// <summary>The status message of the last committed recovery point.</summary>
    public string? StatusMessage { get; init; }

    /// <summary>The error that ended the last failed attempt.</summary>
    public string? LastError { get; init; }

    /// <summary>The sequence number of the last committed checkpoint (0 before the first).</summary>
    public long CheckpointSequence { get; init; }

    /// <summary>The checksum of the run's input.</summary>
    public required string InputChecksum { get; init; }

    /// <summary>The settings captured at the first start, as JSON.</summary>
    public required string Settings { get; init; }
}
