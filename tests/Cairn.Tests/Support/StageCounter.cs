using System.Collections.Concurrent;
using Cairn.Flows;

namespace Cairn.Tests.Support;

/// <summary>Counts how many times each stage ran, across attempts and engines; thread-safe.</summary>
public sealed class StageCounter
{
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);

    public int this[string stage] => _counts.GetValueOrDefault(stage);

    /// <summary>Records one execution of <paramref name="stage"/> and returns its number (1 for the first).</summary>
    public int Hit(string stage) => _counts.AddOrUpdate(stage, 1, (_, count) => count + 1);

    /// <summary>A stage that counts itself and appends its name to the trace.</summary>
    public Func<StageContext<TestState>, CancellationToken, Task> Step(string name) => Step<TestState>(name);

    /// <summary>A stage of any traced state that counts itself and appends its name to the trace.</summary>
    public Func<StageContext<TState>, CancellationToken, Task> Step<TState>(string name)
        where TState : ITraced => (context, _) =>
    {
        Hit(name);
        context.State.Trace.Add(name);
        return Task.CompletedTask;
    };
}

/// <summary>A test state with a trace of the stages that changed it.</summary>
public interface ITraced
{
    List<string> Trace { get; }
}
