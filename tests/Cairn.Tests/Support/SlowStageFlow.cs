using Cairn.Flows;

namespace Cairn.Tests.Support;

/// <summary>
/// A flow of three stages around two recovery points whose middle stage, "slow", waits for a signal: the tests of
/// shutdown and cancellation hold a run inside a stage with it.
/// </summary>
public sealed class SlowStageFlow
{
    /// <summary>Completed when the slow stage has started.</summary>
    public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completed when the slow stage was cancelled: true when its token said so.</summary>
    public TaskCompletionSource<bool> Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Builds the flow "first", "first-done", "slow" (until <paramref name="slowStageWaitsFor"/>), "slow-done", "last".</summary>
    public Flow<TestState> Build(string name, StageCounter counter, Task slowStageWaitsFor) =>
        Flow.Create<TestState>(name)
            .Stage("first", counter.Step("first"))
            .RecoveryPoint("first-done")
            .Stage("slow", async (context, ct) =>
            {
                counter.Hit("slow");
                Entered.TrySetResult();
                try
                {
                    await slowStageWaitsFor.WaitAsync(ct);
                }
                catch (OperationCanceledException)
                {
                    Cancelled.TrySetResult(ct.IsCancellationRequested);
                    throw;
                }

                context.State.Trace.Add("slow");
            })
            .RecoveryPoint("slow-done")
            .Stage("last", counter.Step("last"))
            .Build();
}
