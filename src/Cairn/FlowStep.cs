namespace Cairn;

/// <summary>One step of a flow: a stage or a recovery point.</summary>
internal abstract record FlowStep(string Name);

internal sealed record StageStep<TState>(string Name, Func<StageContext<TState>, CancellationToken, Task> Execute) : FlowStep(Name);

internal sealed record RecoveryPointStep(string Name, string? StatusMessage) : FlowStep(Name);
