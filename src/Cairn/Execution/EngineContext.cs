using Microsoft.Extensions.Logging;

namespace Cairn.Execution;

/// <summary>
/// What the execution of an attempt needs, passed down from the engine instead of the engine itself: the store, the state
/// codec, the clock, the logger, the options, the node's name, and the few things only the hosting engine can do.
/// </summary>
internal sealed class EngineContext(
    RunStore store, StateCodec codec, TimeProvider clock, ILogger logger, CairnOptions options, string nodeName, IRunHost host)
{
    public RunStore Store { get; } = store;

    public IRunQueries Queries { get; } = (IRunQueries)store;

    public IRunOperations Operations { get; } = (IRunOperations)store;

    public StateCodec Codec { get; } = codec;

    public TimeProvider Clock { get; } = clock;

    public ILogger Logger { get; } = logger;

    public CairnOptions Options { get; } = options;

    public string NodeName { get; } = nodeName;

    public IRunHost Host { get; } = host;

    public CairnMetrics Metrics { get; init; } = CairnMetrics.Shared;

    /// <summary>The outcome of a finished run (its result read from the store), or null while it is unfinished.</summary>
    /// <param name="run">The run as read.</param>
    /// <param name="wasAlreadyCompleted">Whether the run had finished before the caller asked, so nothing ran for it.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    public async Task<RunOutcome<TState>?> TryGetOutcomeAsync<TState>(RunRecord run, bool wasAlreadyCompleted, CancellationToken cancellationToken)
    {
        if (!run.Status.IsFinished())
        {
            return null;
        }

        if (run.Status != RunStatus.Completed)
        {
            return new RunOutcome<TState>(run.Id, run.RecoveryId, run.Status, default, run.LastError ?? run.Status.ToString(), wasAlreadyCompleted);
        }

        var result = await Queries.GetResultAsync(run.Id, cancellationToken).ConfigureAwait(false)
            ?? throw new CheckpointCorruptedException($"Run {run.Id} of flow '{run.FlowName}' is completed but its result is missing.");
        return new RunOutcome<TState>(run.Id, run.RecoveryId, run.Status, ReadResult<TState>(run.Id, run.FlowName, result), null, wasAlreadyCompleted);
    }

    /// <summary>Reads a run's serialized result as <typeparamref name="TState"/>.</summary>
    public TState ReadResult<TState>(RunId runId, string flowName, ReadOnlyMemory<byte> result) =>
        Codec.Deserialize<TState>(result.Span, $"The result of run {runId} (flow '{flowName}')", consequence: "");
}
