namespace Cairn.Flows;

/// <summary>The steps of a loop's body or of a branch's path.</summary>
/// <typeparam name="TState">The flow's state type.</typeparam>
public sealed class FlowBody<TState> : StepsBuilder<TState, FlowBody<TState>>
{
    internal FlowBody()
    {
    }
}

/// <summary>The cases of a <see cref="StepsBuilder{TState, TSelf}.Switch{TKey}"/>.</summary>
/// <typeparam name="TState">The flow's state type.</typeparam>
/// <typeparam name="TKey">The type of the selected value.</typeparam>
public sealed class FlowSwitch<TState, TKey>
{
    internal FlowSwitch()
    {
    }

    internal List<TKey> Keys { get; } = [];

    internal List<IReadOnlyList<FlowStep>> Paths { get; } = [];

    internal IReadOnlyList<FlowStep>? DefaultPath { get; private set; }

    /// <summary>Adds the path taken when the selected value equals <paramref name="value"/>.</summary>
    public FlowSwitch<TState, TKey> Case(TKey value, Action<FlowBody<TState>> body)
    {
        Keys.Add(value);
        Paths.Add(StepsBuilder<TState, FlowBody<TState>>.Build(body));
        return this;
    }

    /// <summary>Sets the path taken when no case matches; without one, the run goes on after the switch.</summary>
    public FlowSwitch<TState, TKey> Default(Action<FlowBody<TState>> body)
    {
        if (DefaultPath is not null)
        {
            throw new InvalidOperationException("A switch has one default path.");
        }

        DefaultPath = StepsBuilder<TState, FlowBody<TState>>.Build(body);
        return this;
    }
}

/// <summary>The named branches of a <see cref="StepsBuilder{TState, TSelf}.Parallel{TSlice}"/>.</summary>
/// <typeparam name="TState">The flow's state type.</typeparam>
/// <typeparam name="TSlice">The type of the branches' slices.</typeparam>
public sealed class FlowParallel<TState, TSlice>
{
    internal FlowParallel()
    {
    }

    internal List<ParallelBranch<TState, TSlice>> Branches { get; } = [];

    /// <summary>Adds a branch: its slice of the state when it starts, and its steps over that slice.</summary>
    /// <param name="name">The branch's name, unique in the step: the key of its slice in the merge.</param>
    /// <param name="slice">The branch's slice when it starts, from the state.</param>
    /// <param name="body">The branch's steps, stages and recovery points over its slice.</param>
    public FlowParallel<TState, TSlice> Branch(string name, Func<TState, TSlice> slice, Action<FlowBody<TSlice>> body)
    {
        ArgumentNullException.ThrowIfNull(slice);
        Branches.Add(new ParallelBranch<TState, TSlice>(name, slice, StepsBuilder<TSlice, FlowBody<TSlice>>.Build(body)));
        return this;
    }
}
