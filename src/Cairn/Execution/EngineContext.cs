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

    /// <summary>Where runs' named streams go: the builder's stream store or storage folder, else the run store's own; null when neither keeps streams.</summary>
    public IStreamStore? Streams { get; init; }

    /// <summary>The outcome of a finished run (its result read from the store), or null while it is unfinished.</summary>
    public async Task<RunOutcome<TState>?> TryGetOutcomeAsync<TState>(RunRecord run, CancellationToken cancellationToken)
    {
        if (!run.Status.IsFinished())
        {
            return null;
        }

        if (run.Status != RunStatus.Completed)
        {
            return new RunOutcome<TState>(run.Id, run.RecoveryId, run.Status, default, run.LastError ?? run.Status.ToString(), WasAlreadyCompleted: true);
        }

        var result = await Queries.GetResultAsync(run.Id, cancellationToken).ConfigureAwait(false)
            ?? throw new CheckpointCorruptedException($"Run {run.Id} of flow '{run.FlowName}' is completed but its result is missing.");
        var state = Codec.Deserialize<TState>(result.Span, $"The result of run {run.Id} (flow '{run.FlowName}')", consequence: "");
        return new RunOutcome<TState>(run.Id, run.RecoveryId, run.Status, state, null, WasAlreadyCompleted: true);
    }
}
