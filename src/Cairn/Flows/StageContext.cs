namespace Cairn.Flows;

/// <summary>What a stage sees of its run: the state it works on and where the run stands.</summary>
/// <typeparam name="TState">The flow's state type.</typeparam>
public sealed class StageContext<TState>
{
    private readonly IReadOnlyList<int> _iterations;
    private readonly Func<object?>? _item;
    private readonly AttemptStreams? _attemptStreams;
    private readonly string? _streamsReadOnlyBecause;
    private RunStreams? _streams;

    internal StageContext(
        TState state, RunId runId, string recoveryId, string flowName, string stageName, RecoveryInfo recovery,
        IReadOnlyList<int>? iterations = null, Func<object?>? item = null, StageOutbox? outbox = null,
        AttemptStreams? streams = null, string? streamsReadOnlyBecause = null)
    {
        Outbox = outbox ?? new StageOutbox([]);
        _attemptStreams = streams;
        _streamsReadOnlyBecause = streamsReadOnlyBecause;
        State = state;
        RunId = runId;
        RecoveryId = recoveryId;
        FlowName = flowName;
        StageName = stageName;
        Recovery = recovery;
        _iterations = iterations ?? [];
        _item = item;
    }

    /// <summary>The flow's state. Change it in place or assign a new value; the next recovery point saves it.</summary>
    public TState State { get; set; }

    /// <summary>The run this stage belongs to.</summary>
    public RunId RunId { get; }

    /// <summary>The run's recovery ID.</summary>
    public string RecoveryId { get; }

    /// <summary>The flow's name.</summary>
    public string FlowName { get; }

    /// <summary>This stage's name.</summary>
    public string StageName { get; }

    /// <summary>Whether the run resumed, from which recovery point, which attempt, and the last error.</summary>
    public RecoveryInfo Recovery { get; }

    /// <summary>
    /// A key that is the same for this run and stage on every attempt: pass it to outside systems so that a stage
    /// that runs again after a crash does not repeat their effects.
    /// </summary>
    /// <remarks>Inside loops the key also names the iteration of each enclosing loop: <c>RUN:load-order:17</c>.</remarks>
    public string IdempotencyKey => _iterations.Count == 0 ? $"{RunId}:{StageName}" : $"{RunId}:{StageName}:{string.Join(':', _iterations)}";

    /// <summary>The iteration of the innermost loop this stage is in, counted from 0; null outside loops.</summary>
    public int? Iteration => _iterations.Count == 0 ? null : _iterations[^1];

    /// <summary>The iterations of the loops this stage is in, from the outermost to the innermost; empty outside loops.</summary>
    public IReadOnlyList<int> Iterations => _iterations;

    /// <summary>The current item of the innermost <c>ForEach</c> loop this stage is in, read from the state now.</summary>
    /// <typeparam name="TItem">The collection's item type.</typeparam>
    /// <exception cref="InvalidOperationException">The stage is not inside a <c>ForEach</c> loop, or the item is another type.</exception>
    public TItem Item<TItem>()
    {
        if (_item is null)
        {
            throw new InvalidOperationException($"Stage '{StageName}' is not inside a ForEach loop: it has no current item.");
        }

        return _item() is TItem item
            ? item
            : throw new InvalidOperationException($"The current item of stage '{StageName}' is not a {typeof(TItem).Name}.");
    }

    /// <summary>
    /// The run's named streams: put large content here (files, result sets) instead of in the state; the next recovery
    /// point saves them, later stages open them by name.
    /// </summary>
    /// <exception cref="InvalidOperationException">The stage runs outside an engine (as in a unit test of the stage alone).</exception>
    public RunStreams Streams => _streams ??= _attemptStreams is { } streams
        ? new RunStreams(streams, StageName, _streamsReadOnlyBecause)
        : throw new InvalidOperationException($"Stage '{StageName}' has no streams: it does not run in an engine.");

    /// <summary>The run's outbox: messages added here leave after the next checkpoint commits.</summary>
    public StageOutbox Outbox { get; }

    /// <summary>
    /// A status message for the next recovery point, replacing the one in the flow definition
    /// (for example "1,204 orders loaded"). Null keeps the definition's message.
    /// </summary>
    public string? StatusMessage { get; set; }
}
