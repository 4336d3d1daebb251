namespace Cairn.Runs;

/// <summary>A run as people and tools see it (<see cref="RunOperator"/>): its identity, status and last recovery point, read from the stored run without its plumbing (lease, position, settings).</summary>
public sealed record RunInfo
{
    private readonly RunRecord _run;

    private RunInfo(RunRecord run)
    {
        _run = run;
        RunSettings? settings = null;
        try
        {
            settings = RunSettings.FromJson(run.Settings);
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or NotSupportedException)
        {
            // Unreadable settings: shown without them; the run itself fails when an engine resumes it.
        }

        RetryPolicy = settings?.RetryPolicy;
        ParentRunId = settings?.ParentRunId is { } parent && RunId.TryParse(parent, out var parentId) ? parentId : null;
    }

    /// <summary>The run's ID.</summary>
    public RunId Id => _run.Id;

    /// <summary>The flow's name.</summary>
    public string FlowName => _run.FlowName;

    /// <summary>The flow's version the run started on.</summary>
    public int FlowVersion => _run.FlowVersion;

    /// <summary>The caller's recovery ID.</summary>
    public string RecoveryId => _run.RecoveryId;

    /// <summary>Where the run is in its lifecycle.</summary>
    public RunStatus Status => _run.Status;

    /// <summary>How many attempts have started (0 before the first).</summary>
    public int Attempt => _run.Attempt;

    /// <summary>How many automatic retries were scheduled; manual re-runs do not count.</summary>
    public int RetriesUsed => _run.RetriesUsed;

    /// <summary>When the run was created.</summary>
    public DateTimeOffset CreatedAt => _run.CreatedAt;

    /// <summary>When the run last changed.</summary>
    public DateTimeOffset UpdatedAt => _run.UpdatedAt;

    /// <summary>When a pending or waiting run becomes due.</summary>
    public DateTimeOffset? DueAt => _run.DueAt;

    /// <summary>When the run completed, failed or was cancelled.</summary>
    public DateTimeOffset? FinishedAt => _run.FinishedAt;

    /// <summary>The node that runs or last ran the run.</summary>
    public string? Owner => _run.Owner;

    /// <summary>
    /// While the run is <see cref="RunStatus.Running"/>: when its owner's lease runs out unless the owner renews it. A
    /// lease in the past means the owner stopped renewing (its process died or lost the store), and the run is taken over.
    /// </summary>
    public DateTimeOffset? LeaseExpiresAt => _run.LeaseExpiresAt;

    /// <summary>Whether the run is <see cref="RunStatus.Running"/> on an owner whose lease still holds at <paramref name="now"/>.</summary>
    /// <param name="now">The time to judge by, from the store's clock where it has one.</param>
    public bool IsOwnerAlive(DateTimeOffset now) => Status == RunStatus.Running && LeaseExpiresAt > now;

    /// <summary>The name of the last recovery point passed, if any.</summary>
    public string? LastRecoveryPoint => _run.LastRecoveryPoint;

    /// <summary>The status message of the last recovery point passed.</summary>
    public string? StatusMessage => _run.StatusMessage;

    /// <summary>The error that ended the last failed attempt.</summary>
    public string? LastError => _run.LastError;

    /// <summary>
    /// Whether the run failed because data it would resume from failed its checksum: a checkpoint
    /// (<see cref="CheckpointCorruptedException"/>) or a stream it holds (<see cref="StreamCorruptedException"/>). The damaged
    /// data is quarantined: kept unchanged for inspection, never resumed from; a plain re-run is refused while the latest
    /// checkpoint is corrupt, and a re-run from an earlier kept checkpoint works. <see cref="LastError"/> says which.
    /// </summary>
    public bool IsQuarantined => Status == RunStatus.Failed && _run.LastError is { } error
        && (error.Contains($" {nameof(CheckpointCorruptedException)}: ", StringComparison.Ordinal) || error.Contains($" {nameof(StreamCorruptedException)}: ", StringComparison.Ordinal));

    /// <summary>The sequence number of the last checkpoint (0 before the first).</summary>
    public long CheckpointSequence => _run.CheckpointSequence;

    /// <summary>The retry policy captured when the run first started; null when the stored settings cannot be read.</summary>
    public RetryPolicy? RetryPolicy { get; }

    /// <summary>The parent run, for the child run of a detached sub-flow.</summary>
    public RunId? ParentRunId { get; }

    /// <summary>Whether the run has finished: completed, failed or cancelled.</summary>
    public bool IsFinished => Status.IsFinished();

    internal static RunInfo From(RunRecord run) => new(run);
}
