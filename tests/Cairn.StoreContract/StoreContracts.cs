using Cairn.Runs;
using Cairn.Storage;

namespace Cairn.StoreContract;

/// <summary>
/// The operator contracts of a store (<see cref="IRunQueries"/>, <see cref="IRunOperations"/>) called on the store
/// itself, as the tests hold it: every store implements them beside the engine-facing <see cref="RunStore"/>.
/// </summary>
public static class StoreContracts
{
    public static IRunQueries Queries(this RunStore store) =>
        Assert.IsAssignableFrom<IRunQueries>(store);

    public static IRunOperations Operations(this RunStore store) =>
        Assert.IsAssignableFrom<IRunOperations>(store);

    public static IOutboxStore Outbox(this RunStore store) =>
        Assert.IsAssignableFrom<IOutboxStore>(store);

    public static ISignalStore Signals(this RunStore store) =>
        Assert.IsAssignableFrom<ISignalStore>(store);

    public static Task<RunRecord?> FindRunAsync(this RunStore store, string flowName, string recoveryId, CancellationToken cancellationToken) =>
        store.Queries().FindRunAsync(flowName, recoveryId, cancellationToken);

    public static Task<IReadOnlyList<RunRecord>> ListRunsAsync(this RunStore store, RunQuery query, CancellationToken cancellationToken) =>
        store.Queries().ListRunsAsync(query, cancellationToken);

    public static Task<IReadOnlyList<RunEvent>> GetEventsAsync(this RunStore store, RunId runId, CancellationToken cancellationToken) =>
        store.Queries().GetEventsAsync(runId, cancellationToken);

    public static Task<IReadOnlyList<CheckpointSummary>> GetCheckpointsAsync(this RunStore store, RunId runId, CancellationToken cancellationToken) =>
        store.Queries().GetCheckpointsAsync(runId, cancellationToken);

    public static Task<Checkpoint?> GetCheckpointAsync(this RunStore store, RunId runId, long sequence, CancellationToken cancellationToken) =>
        store.Queries().GetCheckpointAsync(runId, sequence, cancellationToken);

    public static Task<ReadOnlyMemory<byte>?> GetResultAsync(this RunStore store, RunId runId, CancellationToken cancellationToken) =>
        store.Queries().GetResultAsync(runId, cancellationToken);

    public static Task<RunRecord> RequestRerunAsync(this RunStore store, RunId runId, string message, CancellationToken cancellationToken) =>
        store.Operations().RequestRerunAsync(runId, message, cancellationToken);

    public static Task<RunRecord> RequestRerunFromAsync(
        this RunStore store, RunId runId, long sequence, byte[]? state, string message, CancellationToken cancellationToken) =>
        store.Operations().RequestRerunFromAsync(runId, sequence, state, message, cancellationToken);

    /// <summary>Re-runs from the checkpoint the options choose, as the operator API does for a store alone; returns the run as stored.</summary>
    public static async Task<RunRecord> RequestRerunFromAsync(this RunStore store, RunId runId, RerunOptions options, CancellationToken cancellationToken)
    {
        await RunOperator.Create(store).RerunAsync(runId, options, cancellationToken);
        return (await store.GetRunAsync(runId, cancellationToken))!;
    }

    public static Task<RunRecord> CancelRunAsync(this RunStore store, RunId runId, string message, CancellationToken cancellationToken) =>
        store.Operations().CancelRunAsync(runId, message, cancellationToken);

    public static Task<int> PurgeAsync(this RunStore store, DateTimeOffset finishedBefore, CancellationToken cancellationToken) =>
        store.Operations().PurgeAsync(finishedBefore, cancellationToken);
}
