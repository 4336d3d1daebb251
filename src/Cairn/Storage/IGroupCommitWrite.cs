namespace Cairn.Storage;

/// <summary>A write waiting in a <see cref="GroupCommitQueue{TWrite}"/>: what the queue and its commit function finish it with.</summary>
public interface IGroupCommitWrite
{
    /// <summary>Completes the write once its transaction committed.</summary>
    void Complete();

    /// <summary>Fails the write: it was refused, or its transaction did not commit.</summary>
    /// <param name="error">What the write's caller gets.</param>
    void Fail(Exception error);
}
