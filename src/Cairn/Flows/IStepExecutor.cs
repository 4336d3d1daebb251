namespace Cairn.Flows;

/// <summary>
/// Executes the steps whose parts have types of their own beyond the state of the sequence they are in (a parallel
/// step's slices, a detached sub-flow's child state): such a step hands itself over with those types, and the executor
/// runs it. The model only describes; what runs it lives in <c>Cairn.Execution</c>.
/// </summary>
/// <typeparam name="TState">The state of the sequence the step is in.</typeparam>
internal interface IStepExecutor<TState>
{
    /// <summary>Runs a parallel step or inline sub-flow.</summary>
    Task RunParallelAsync<TSlice>(ParallelStep<TState, TSlice> step);

    /// <summary>Runs a detached sub-flow.</summary>
    Task RunChildRunAsync<TChild>(ChildRunStep<TState, TChild> step);
}
