namespace Cairn.Runs;

/// <summary>A run as people and tools see it (<see cref="RunOperator"/>): its identity, status and last recovery point.</summary>
public sealed record RunInfo
{
    /// <summary>The run's ID.</summary>
    public required RunId Id { get; init; }

    /// <summary>The flow's name.</summary>
    public required string FlowName { get; init; }

    /// <summary>The flow's version the run started on.</summary>
    public required int FlowVersion { get; init; }

    /// <summary>The caller's recovery ID.</summary>
    public required string RecoveryId { get; init; }

    /// <summary>Where the run is in its lifecycle.</summary>
    public required RunStatus Status { get; init; }

    /// <summary>How many attempts have started (0 before the first).</summary>
    public required int Attempt { get; init; }

    /// <summary>How many automatic retries were scheduled; manual re-runs do not count.</summary>
    public required int RetriesUsed { get; init; }

    /// <summary>When the run was created.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the run last changed.</summary>
    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>When a pending or waiting run becomes due.</summary>
    public DateTimeOffset? DueAt { get; init; }

    /// <summary>When the run completed, failed or was cancelled.</summary>
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>The node that runs or last ran the run.</summary>
    public string? Owner { get; init; }

    /// <summary>The name of the last recovery point passed, if any.</summary>
    public string? LastRecoveryPoint { get; init; }

    /// <summary>The status message of the last recovery point passed.</summary>
    public string? StatusMessage { get; init; }

    /// <summary>The error that ended the last failed attempt.</summary>
    public string? LastError { get; init; }

    /// <summary>The sequence number of the last checkpoint (0 before the first).</summary>
    public required long CheckpointSequence { get; init; }

    /// <summary>The retry policy captured when the run first started; null when the stored settings cannot be read.</summary>
    public RetryPolicy? RetryPolicy { get; init; }

    /// <summary>The parent run, for the child run of a detached sub-flow.</summary>
    public RunId? ParentRunId { get; init; }

    /// <summary>Whether the run has finished: completed, failed or cancelled.</summary>
    public bool IsFinished => Status.IsFinished();

    internal static RunInfo From(RunRecord run)
    {
        RunSettings? settings = null;
        try
        {
            settings = RunSettings.FromJson(run.Settings);
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or NotSupportedException)
        {
            // Unreadable settings: shown without them; the run itself fails when an engine resumes it.
        }

        return new RunInfo
        {
            Id = run.Id,
            FlowName = run.FlowName,
            FlowVersion = run.FlowVersion,
            RecoveryId = run.RecoveryId,
            Status = run.Status,
            Attempt = run.Attempt,
            RetriesUsed = run.RetriesUsed,
            CreatedAt = run.CreatedAt,
            UpdatedAt = run.UpdatedAt,
            DueAt = run.DueAt,
            FinishedAt = run.FinishedAt,
            Owner = run.Owner,
            LastRecoveryPoint = run.LastRecoveryPoint,
            StatusMessage = run.StatusMessage,
            LastError = run.LastError,
            CheckpointSequence = run.CheckpointSequence,
            RetryPolicy = settings?.RetryPolicy,
            ParentRunId = settings?.ParentRunId is { } parent && RunId.TryParse(parent, out var parentId) ? parentId : null,
        };
    }
}
