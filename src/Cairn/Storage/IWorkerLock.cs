namespace Cairn.Storage;

/// <summary>A worker lock that may be lost while it is kept (with the connection that holds it) and taken again later.</summary>
internal interface IWorkerLock : IAsyncDisposable
{
    /// <summary>Whether the lock is held at this moment.</summary>
    bool IsHeld { get; }
}
