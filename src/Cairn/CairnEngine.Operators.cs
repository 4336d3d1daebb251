using System.Reflection;
using Cairn.Serialization;
using Cairn.Storage;

namespace Cairn;

public sealed partial class CairnEngine
{
    private static readonly MethodInfo ReadAsMethod =
        typeof(CairnEngine).GetMethod(nameof(ReadAs), BindingFlags.NonPublic | BindingFlags.Static)!;

    /// <summary>
    /// Asks a failed, waiting, interrupted or cancelled run to run again from one of its kept checkpoints (how many a run
    /// keeps is <see cref="CairnOptions.CheckpointsToKeep"/>), optionally with an edited state. The stages after that
    /// recovery point run again; the ones before it do not. A <see cref="RunEventKind.RerunRequested"/> event names the
    /// point, the checkpoint and whether the state was edited. Does not use up one of the run's retries. Starts the engine
    /// if it has not started.
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="options">Which checkpoint, and the edited state if any.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The run, now <see cref="RunStatus.Pending"/> and due at once.</returns>
    /// <exception cref="RunNotFoundException">The run does not exist.</exception>
    /// <exception cref="InvalidRunStateException">The run is pending, running or completed; nothing changed.</exception>
    /// <exception cref="CheckpointNotFoundException">The run keeps no such checkpoint; nothing changed.</exception>
    /// <exception cref="StateSerializationException">
    /// The edited state is over <see cref="CairnOptions.MaxStateSize"/>, or the run's flow is registered here and the
    /// edited state cannot be read as its state type; nothing changed.
    /// </exception>
    public async Task<RunRecord> RerunAsync(RunId runId, RerunOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return await RequestRerunFromAsync(
            runId,
            options,
            (run, checkpoint) => options.State is { } state ? CheckEditedState(run, checkpoint, state, FindFlow(run)) : null,
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Asks a failed, waiting, interrupted or cancelled run to run again from one of its kept checkpoints with an edited
    /// state, serialized with the engine's serializer. Otherwise as
    /// <see cref="RerunAsync(RunId, RerunOptions, CancellationToken)"/>.
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="options">Which checkpoint; its <see cref="RerunOptions.State"/> must be null.</param>
    /// <param name="state">The state to resume with.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="StateSerializationException">
    /// The run's flow is registered here with another state type, or the state cannot be serialized or is too large;
    /// nothing changed.
    /// </exception>
    public async Task<RunRecord> RerunAsync<TState>(RunId runId, RerunOptions options, TState state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.State is not null)
        {
            throw new ArgumentException("Give the edited state either as RerunOptions.State or as the state argument, not both.", nameof(options));
        }

        return await RequestRerunFromAsync(
            runId,
            options,
            (run, checkpoint) =>
            {
                if (FindFlow(run) is { } flow)
                {
                    if (flow.StateType != typeof(TState))
                    {
                        throw new StateSerializationException(
                            $"The edited state for run {runId} is a {typeof(TState).Name}, but the state of flow {flow} is a {flow.StateType.Name}. Nothing changed.");
                    }

                    CheckNotInsideEnvelope(run, checkpoint, flow);
                }

                return SerializeState(state, $"The edited state for run {runId}", " Nothing changed.");
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Checks the run's status, chooses the checkpoint and checks the edited state (<paramref name="editedState"/> returns
    /// it checked, or throws), before anything changes; then has the store re-run the run from that checkpoint.
    /// </summary>
    private async Task<RunRecord> RequestRerunFromAsync(
        RunId runId, RerunOptions options, Func<RunRecord, CheckpointSummary, byte[]?> editedState, CancellationToken cancellationToken)
    {
        var run = await Store.GetRunAsync(runId, cancellationToken).ConfigureAwait(false) ?? throw new RunNotFoundException(runId);
        RunStore.CheckCanRerun(runId, run.Status);
        var checkpoint = RunStore.ChooseCheckpoint(runId, await Store.GetCheckpointsAsync(runId, cancellationToken).ConfigureAwait(false), options);
        var state = editedState(run, checkpoint);
        await StartAsync(cancellationToken).ConfigureAwait(false);
        var rerun = await Store.RequestRerunFromAsync(runId, checkpoint.Sequence, state, options.Message, cancellationToken).ConfigureAwait(false);
        Wake();
        NotifyChanged(runId);
        return rerun;
    }

    /// <summary>The registered flow a run resumes on: the run's version if registered, else the flow's name; null when neither is.</summary>
    private FlowDefinition? FindFlow(RunRecord run) =>
        Flows.Where(f => f.Name == run.FlowName).OrderByDescending(f => f.Version == run.FlowVersion).FirstOrDefault();

    /// <summary>Refuses an edited state the run could not resume with, before anything changes.</summary>
    private byte[] CheckEditedState(RunRecord run, CheckpointSummary checkpoint, byte[] state, FlowDefinition? flow)
    {
        if (state.Length > _options.MaxStateSize)
        {
            throw new StateSerializationException(
                $"The edited state for run {run.Id} is {state.Length:N0} bytes, over the limit of {_options.MaxStateSize:N0} bytes (CairnOptions.MaxStateSize). Nothing changed.");
        }

        if (flow is null)
        {
            return state; // Not registered here: the engine that resumes the run reads the state and fails it if it cannot.
        }

        CheckNotInsideEnvelope(run, checkpoint, flow);

        bool read;
        try
        {
            read = (bool)ReadAsMethod.MakeGenericMethod(flow.StateType).Invoke(null, [Serializer, state])!;
        }
        catch (TargetInvocationException wrapper) when (wrapper.InnerException is { } ex and not OperationCanceledException)
        {
            var member = Serializer.FindMember(ex);
            throw new StateSerializationException(
                $"The edited state for run {run.Id} cannot be read as {flow.StateType.Name}, the state of flow {flow}" +
                $"{(member is null ? "" : $" (at member '{member}')")}: {ex.Message} Nothing changed.",
                member,
                ex);
        }

        if (!read)
        {
            throw new StateSerializationException(
                $"The edited state for run {run.Id} is empty (null): flow {flow} needs a {flow.StateType.Name}. Nothing changed.");
        }

        return state;
    }

    /// <summary>
    /// Refuses to edit the state of a recovery point inside a parallel step or an inline sub-flow: its checkpoint saves
    /// the states of every branch together, not the flow's state alone.
    /// </summary>
    private static void CheckNotInsideEnvelope(RunRecord run, CheckpointSummary checkpoint, FlowDefinition flow)
    {
        if (checkpoint.HoldsBranchStates)
        {
            var envelope = FlowDefinition.Flatten(flow.Steps).OfType<CompositeStep>().FirstOrDefault(step => step is IEnvelopeStep
                && FlowDefinition.Flatten(step.Bodies.SelectMany(body => body)).Any(s => s is RecoveryPointStep && s.Name == checkpoint.RecoveryPoint));
            var where = envelope is null ? "a parallel step or sub-flow" : $"{envelope.Kind} '{envelope.Name}'";
            throw new StateSerializationException(
                $"Run {run.Id} cannot resume from recovery point '{checkpoint.RecoveryPoint}' with an edited state: the point is inside " +
                $"{where} of flow {flow}, whose checkpoints save the states of all its branches together. " +
                "Re-run from it without an edited state, or from a recovery point outside it. Nothing changed.");
        }
    }

    /// <summary>Whether the state reads as <typeparamref name="TState"/> and is not null; throws what the serializer throws.</summary>
    private static bool ReadAs<TState>(StateSerializer serializer, byte[] state) => serializer.Deserialize<TState>(state) is not null;
}
