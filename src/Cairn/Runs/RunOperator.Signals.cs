using System.Text;

namespace Cairn.Runs;

public sealed partial class RunOperator
{
    /// <summary>
    /// Delivers a signal to a run, durably: it is kept until the run's <c>WaitFor</c> step of that name takes it, whether
    /// the run waits there already or gets there later, and a run waiting for it is woken at once. A second signal with
    /// the same <paramref name="signalId"/> is ignored.
    /// </summary>
    /// <typeparam name="TPayload">The payload's type: the type the <c>WaitFor</c> step reads.</typeparam>
    /// <param name="runId">The run.</param>
    /// <param name="signal">The signal's name: the name of the <c>WaitFor</c> step.</param>
    /// <param name="payload">The payload, serialized with <see cref="RunOperatorOptions.Serializer"/>.</param>
    /// <param name="signalId">The signal's ID, unique per run (an approval's ID, a webhook's delivery ID); null for a new one.</param>
    /// <param name="cancellationToken">Cancels the delivery.</param>
    /// <exception cref="RunNotFoundException">The run does not exist.</exception>
    /// <exception cref="InvalidRunStateException">The run has finished: nothing would ever take the signal.</exception>
    public Task<SignalDelivery> SignalAsync<TPayload>(RunId runId, string signal, TPayload payload, string? signalId = null, CancellationToken cancellationToken = default) =>
        SignalJsonAsync(runId, signal, _options.Serializer.Serialize(payload), signalId, cancellationToken);

    /// <summary>Delivers a signal to the run of <paramref name="flowName"/> with <paramref name="recoveryId"/>; see <see cref="SignalAsync{TPayload}(RunId, string, TPayload, string?, CancellationToken)"/>.</summary>
    /// <exception cref="RunNotFoundException">No run of the flow has the recovery ID.</exception>
    /// <exception cref="InvalidRunStateException">The run has finished.</exception>
    public async Task<SignalDelivery> SignalByRecoveryIdAsync<TPayload>(
        string flowName, string recoveryId, string signal, TPayload payload, string? signalId = null, CancellationToken cancellationToken = default)
    {
        var run = await FindRunAsync(flowName, recoveryId, cancellationToken).ConfigureAwait(false)
            ?? throw new RunNotFoundException(flowName, recoveryId);
        return await SignalAsync(run.Id, signal, payload, signalId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Delivers a signal whose payload is already serialized (JSON text from a command line or an HTTP request); see
    /// <see cref="SignalAsync{TPayload}(RunId, string, TPayload, string?, CancellationToken)"/>. The payload is read as the
    /// step's type when the run takes it; one that cannot be read is left untaken and logged, and the run waits on.
    /// </summary>
    /// <exception cref="ArgumentException">The name is empty or the payload is empty.</exception>
    /// <exception cref="RunNotFoundException">The run does not exist.</exception>
    /// <exception cref="InvalidRunStateException">The run has finished.</exception>
    public async Task<SignalDelivery> SignalJsonAsync(RunId runId, string signal, ReadOnlyMemory<byte> payload, string? signalId = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(signal);
        if (payload.IsEmpty)
        {
            throw new ArgumentException($"The payload of signal '{signal}' is empty; send JSON such as {{}} or null.", nameof(payload));
        }

        var signals = _store as ISignalStore ?? throw NotAnOperatorStore(_store, nameof(ISignalStore));
        var id = string.IsNullOrWhiteSpace(signalId) ? Guid.NewGuid().ToString("N") : signalId;
        var added = await signals.SendSignalAsync(runId, new RunSignal(id, signal, payload), cancellationToken).ConfigureAwait(false);
        _host?.Changed(runId);
        return new SignalDelivery(runId, signal, id, Duplicate: !added);
    }

    /// <summary>The signals delivered to a run, taken or not, in the order they were kept; payloads as text.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    public async Task<IReadOnlyList<SignalInfo>> ListSignalsAsync(RunId runId, CancellationToken cancellationToken = default)
    {
        var signals = _store as ISignalStore ?? throw NotAnOperatorStore(_store, nameof(ISignalStore));
        var kept = await signals.ListSignalsAsync(runId, cancellationToken).ConfigureAwait(false);
        return [.. kept.Select(s => new SignalInfo(s.Id, s.Name, Encoding.UTF8.GetString(s.Payload.Span), s.SentAt, s.TakenBy))];
    }
}

/// <summary>What <see cref="RunOperator.SignalAsync{TPayload}(RunId, string, TPayload, string?, CancellationToken)"/> did.</summary>
/// <param name="RunId">The run.</param>
/// <param name="Signal">The signal's name.</param>
/// <param name="SignalId">The signal's ID (the one given, or the new one).</param>
/// <param name="Duplicate">True when the run already had a signal with this ID: nothing changed.</param>
public sealed record SignalDelivery(RunId RunId, string Signal, string SignalId, bool Duplicate);

/// <summary>A signal delivered to a run, as operators see it.</summary>
/// <param name="Id">The signal's ID, unique per run.</param>
/// <param name="Name">The signal's name.</param>
/// <param name="Payload">The payload as text (JSON with the default serializer).</param>
/// <param name="SentAt">When it was kept.</param>
/// <param name="TakenBy">The sequence of the checkpoint that took it; null while it waits to be taken.</param>
public sealed record SignalInfo(string Id, string Name, string Payload, DateTimeOffset SentAt, long? TakenBy);
