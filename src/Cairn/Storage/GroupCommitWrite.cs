namespace Cairn.Storage;

/// <summary>
/// A write waiting in a <see cref="GroupCommitQueue{TWrite}"/> with a result: its <see cref="Task"/> completes with the
/// result only once the transaction committed, and never on the writer's thread.
/// </summary>
/// <typeparam name="TResult">What the write returns to its caller.</typeparam>
public abstract class GroupCommitWrite<TResult> : IGroupCommitWrite
{
    private readonly TaskCompletionSource<TResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The write's outcome, for its caller.</summary>
    public Task<TResult> Task => _completion.Task;

    /// <summary>The result the write produced inside the transaction; its caller gets it once the transaction committed.</summary>
    protected TResult Result { get; set; } = default!;

    /// <inheritdoc />
    public void Complete() => _completion.TrySetResult(Result);

    /// <inheritdoc />
    public void Fail(Exception error) => _completion.TrySetException(error);
}
