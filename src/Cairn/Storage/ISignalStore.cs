namespace Cairn.Storage;

/// <summary>
/// The signals of a store: what <c>SignalAsync</c> delivers to runs, kept until the run's <c>WaitFor</c> step takes them
/// with a checkpoint (<see cref="Checkpoint.TakesSignal"/>). Every store implements it.
/// </summary>
/// <remarks>
/// A signal is kept whether or not the run waits for it yet; a run waiting (<see cref="RunStatus.Waiting"/>) is made due
/// at once when a signal comes, and the store wakes the engines that listen. Signal IDs are unique per run: a second
/// signal with an ID already kept changes nothing. Times come from the store's clock.
/// </remarks>
public interface ISignalStore
{
    /// <summary>
    /// Keeps a signal for a run, records a <see cref="RunEventKind.Signalled"/> event, and makes the run due now if it is
    /// <see cref="RunStatus.Waiting"/>, in one transaction. Returns false, changing nothing, when the run already has a
    /// signal with <see cref="RunSignal.Id"/>.
    /// </summary>
    /// <exception cref="RunNotFoundException">No such run.</exception>
    /// <exception cref="InvalidRunStateException">The run has finished: nothing would ever take the signal.</exception>
    Task<bool> SendSignalAsync(RunId runId, RunSignal signal, CancellationToken cancellationToken);

    /// <summary>
    /// Every signal of the run, taken or not, in the order they were kept (a waiting run takes the first one of its name
    /// not taken whose payload it can read); empty for an unknown run.
    /// </summary>
    Task<IReadOnlyList<RunSignal>> ListSignalsAsync(RunId runId, CancellationToken cancellationToken);
}

/// <summary>A signal delivered to a run.</summary>
/// <param name="Id">Unique per run: a duplicate delivery with the same ID is ignored.</param>
/// <param name="Name">The signal's name: the <c>WaitFor</c> step that takes it.</param>
/// <param name="Payload">The payload, serialized (JSON with the default serializer).</param>
public sealed record RunSignal(string Id, string Name, ReadOnlyMemory<byte> Payload)
{
    /// <summary>When the store kept it (set by the store when read back).</summary>
    public DateTimeOffset SentAt { get; init; }

    /// <summary>The sequence of the checkpoint that took it; null while it waits to be taken.</summary>
    public long? TakenBy { get; init; }
}
