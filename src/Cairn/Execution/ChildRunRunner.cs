namespace Cairn.Execution;

/// <summary>
/// Runs a detached sub-flow: starts the child run (or, resumed at the step, finds it again), takes its outcome when it
/// has ended, or saves the parent's state at the step and makes the parent wait.
/// </summary>
internal static class ChildRunRunner
{
    /// <param name="step">The step.</param>
    /// <param name="host">The runner of the sequence the step is in.</param>
    /// <param name="position">The step's position.</param>
    /// <param name="resumed">Whether the attempt resumed waiting at this step (the child exists already).</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <exception cref="WaitingForChildRunException">The child has not finished: the parent waits.</exception>
    public static async Task RunAsync<TState, TChild>(
        ChildRunStep<TState, TChild> step, StepRunner<TState> host, FlowPath position, bool resumed, CancellationToken cancellationToken)
    {
        var scope = host.Scope;
        var engine = scope.Context;
        var recoveryId = step.ChildRecoveryId(scope.Run.Id, host.Iterations);
        host.Where = $"at detached sub-flow '{step.Name}' ({step.Child})";
        var child = resumed
            ? await engine.Queries.FindRunAsync(step.Child.Name, recoveryId, cancellationToken).ConfigureAwait(false)
                ?? throw new ChildRunFailedException($"Child run '{recoveryId}' of flow '{step.Child.Name}', which run {scope.Run.Id} waits for, no longer exists (was it purged?).")
            : await engine.Host.StartChildRunAsync(step.Child, step.Input(host.State), recoveryId, scope.Run.Id, cancellationToken).ConfigureAwait(false);
        var outcome = await engine.TryGetOutcomeAsync<TChild>(child, cancellationToken).ConfigureAwait(false);
        if (outcome is null)
        {
            if (!resumed)
            {
                var state = engine.Codec.Serialize(host.State, $"Flow {scope.Flow} could not wait at detached sub-flow '{step.Name}' for run {scope.Run.Id}: the state", "");
                await host.SaveRaw(step.Name, position.Append(ChildRunStep<TState>.Lane), $"waiting for child run {child.Id}", state, new SaveExtras(host.TakeOutbox()), cancellationToken).ConfigureAwait(false);
                engine.Options.AttemptObserver?.AfterCheckpoint(scope, step.Name, host.Iterations, host.WhereSuffix);
            }

            throw new WaitingForChildRunException(child.Id, $"{step.Child}", step.Name);
        }

        if (step.OnFinished is { } handle)
        {
            host.Where = $"in the handler of detached sub-flow '{step.Name}' ({step.Child})";
            handle(host.State, outcome);
            return;
        }

        if (!outcome.IsCompleted)
        {
            throw new ChildRunFailedException($"Child run {outcome.RunId} ({step.Child}) ended {outcome.Status}: {outcome.Error}");
        }
    }
}
