namespace Cairn.Storage;

/// <summary>
/// What an engine holds of a store while it runs (<see cref="RunStore.AttachAsync"/>): the store's worker lock and its
/// wake-up subscription, each where the store has one. Disposing it unsubscribes, then releases the lock.
/// </summary>
public sealed class StoreAttachment : IAsyncDisposable
{
    private IAsyncDisposable? _wakeUps;
    private IAsyncDisposable? _workerLock;

    /// <summary>Creates an attachment over what the store gave.</summary>
    /// <param name="workerLock">The worker lock, or null when the store has none.</param>
    /// <param name="wakeUps">The wake-up subscription, or null when the store has no wake-ups.</param>
    public StoreAttachment(IAsyncDisposable? workerLock, IAsyncDisposable? wakeUps)
    {
        _workerLock = workerLock;
        _wakeUps = wakeUps;
        HasWakeUps = wakeUps is not null;
    }

    /// <summary>An attachment with neither a lock nor wake-ups: the engine coordinates through leases and polling alone.</summary>
    public static StoreAttachment None => new(null, null);

    /// <summary>
    /// Whether the engine holds the store's worker lock at this moment: then every run still running under the lock's owner
    /// (the whole store, or one node name) belongs to a dead process. False once the attachment is disposed, and while a
    /// lock lost with its database connection is being taken again.
    /// </summary>
    public bool HoldsWorkerLock => Volatile.Read(ref _workerLock) switch
    {
        null => false,
        IWorkerLock kept => kept.IsHeld,
        _ => true,
    };

    /// <summary>Whether the store wakes the engine when work may be due.</summary>
    public bool HasWakeUps { get; }

    /// <summary>Stops the wake-ups without releasing the lock: an engine that stops claims nothing more, but keeps its name until its runs are drained.</summary>
    public async ValueTask StopWakeUpsAsync()
    {
        if (Interlocked.Exchange(ref _wakeUps, null) is { } wakeUps)
        {
            await wakeUps.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Unsubscribes from the wake-ups, then releases the worker lock.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopWakeUpsAsync().ConfigureAwait(false);
        if (Interlocked.Exchange(ref _workerLock, null) is { } workerLock)
        {
            await workerLock.DisposeAsync().ConfigureAwait(false);
        }
    }
}
