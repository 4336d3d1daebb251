using System.Text.Json;

namespace Cairn.AspNetCore.Api;

// The JSON the API exchanges: plain records, camelCase, enums as strings (ConsoleJson.Options).

/// <summary>A run as the API shows it.</summary>
internal sealed record RunResponse(
    string Id, string FlowName, int FlowVersion, string RecoveryId, RunStatus Status, int Attempt, int RetriesUsed,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? DueAt, DateTimeOffset? FinishedAt, string? Owner,
    DateTimeOffset? LeaseExpiresAt, string? LastRecoveryPoint, string? StatusMessage, string? LastError, long CheckpointSequence,
    string? ParentRunId, bool IsFinished)
{
    public static RunResponse From(RunInfo run) => new(
        run.Id.ToString(), run.FlowName, run.FlowVersion, run.RecoveryId, run.Status, run.Attempt, run.RetriesUsed, run.CreatedAt,
        run.UpdatedAt, run.DueAt, run.FinishedAt, run.Owner, run.LeaseExpiresAt, run.LastRecoveryPoint, run.StatusMessage, run.LastError,
        run.CheckpointSequence, run.ParentRunId?.ToString(), run.IsFinished);
}

/// <summary>One page of runs; <c>nextCursor</c> goes into the next request's <c>cursor</c>.</summary>
internal sealed record RunListResponse(IReadOnlyList<RunResponse> Runs, string? NextCursor);

/// <summary>One entry of a run's history.</summary>
internal sealed record RunEventResponse(DateTimeOffset Time, RunEventKind Kind, int Attempt, string Message, string? RecoveryPoint);

/// <summary>A kept checkpoint without its state.</summary>
internal sealed record CheckpointResponse(
    long Sequence, string Position, string RecoveryPoint, string? StatusMessage, string Checksum, DateTimeOffset CreatedAt, int StateSize, bool HoldsBranchStates)
{
    public static CheckpointResponse From(CheckpointSummary c) =>
        new(c.Sequence, c.Position.ToString(), c.RecoveryPoint, c.StatusMessage, c.Checksum, c.CreatedAt, c.StateSize, c.HoldsBranchStates);
}

/// <summary>One kept checkpoint with its state.</summary>
internal sealed record CheckpointDetailResponse(CheckpointResponse Checkpoint, StateResponse State);

/// <summary>A state or result as the console shows it: possibly hidden, redacted or cut; always a JSON string, never markup.</summary>
internal sealed record StateResponse(bool Shown, string? Reason, bool? ChecksumMatches, int Size, bool Truncated, bool Redacted, string? Text);

/// <summary>A run with its history, kept checkpoints, latest state and result.</summary>
internal sealed record RunDetailResponse(
    RunResponse Run, IReadOnlyList<RunEventResponse> Events, IReadOnlyList<CheckpointResponse> Checkpoints, CheckpointResponse? LatestCheckpoint,
    StateResponse? State, StateResponse? Result);

/// <summary>Which kept checkpoint to re-run from (by recovery point or by sequence, not both; neither: the latest) and an optional edited state.</summary>
internal sealed record RerunFromRequest(string? RecoveryPoint, long? Sequence, JsonElement? State);

/// <summary>What a bulk action did, or with <c>dryRun</c> would act on (then counted in the store, and nothing is skipped or changed).</summary>
internal sealed record BulkResponse(bool DryRun, int Matched, int Eligible, int Changed, IReadOnlyList<BulkSkip> Skipped);

/// <summary>A run a bulk action left as it was, and why.</summary>
internal sealed record BulkSkip(string RunId, string Reason);

/// <summary>How many finished runs a purge deleted.</summary>
internal sealed record PurgeResponse(int Purged, TimeSpan OlderThan);

/// <summary>
/// The scheduled purge of the engine the console runs in: <paramref name="Known"/> is false for a console over a store
/// alone (<c>cairn console</c>), which cannot know the engines' settings; a null retention period purges nothing.
/// </summary>
internal sealed record PurgeSettingsResponse(bool Known, TimeSpan? RetentionPeriod, TimeSpan? Interval);

/// <summary>An outbox message; its payload is shown under the same rules as a state.</summary>
internal sealed record OutboxMessageResponse(
    Guid Id, string RunId, long CheckpointSequence, int Index, string Destination, OutboxStatus Status, int Attempts, DateTimeOffset CreatedAt,
    DateTimeOffset? DueAt, string? LastError, StateResponse Payload);

/// <summary>Which dead-lettered messages to send again; null or absent: all of them.</summary>
internal sealed record RedriveRequest(IReadOnlyList<Guid>? Ids);

/// <summary>How many messages were sent again.</summary>
internal sealed record RedriveResponse(int Redriven);

/// <summary>How many runs match the filters, by status (every status listed), and in all.</summary>
internal sealed record RunSummaryResponse(IReadOnlyDictionary<RunStatus, long> CountsByStatus, long Total);

/// <summary>The anti-forgery token to send, in the header named, with every request that changes runs.</summary>
internal sealed record AntiforgeryTokenResponse(string HeaderName, string Token);
