namespace Cairn.Flows;

/// <summary>A stage written as a class: one unit of work that reads and changes the flow's state.</summary>
/// <typeparam name="TState">The flow's state type.</typeparam>
public interface IStage<TState>
{
    /// <summary>Runs the stage. Change <see cref="StageContext{TState}.State"/> or replace it.</summary>
    Task ExecuteAsync(StageContext<TState> context, CancellationToken cancellationToken);
}
