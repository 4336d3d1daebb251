namespace Cairn.Storage;

/// <summary>
/// Where the named streams of runs are kept (<c>StageContext.Streams</c>): content addressed by its SHA-256, written
/// and read by streaming, never held whole in memory. Identical content is stored once. The run store's checkpoints say
/// which contents are still needed (<see cref="IStreamReferences"/>); the engine sweeps the others.
/// </summary>
/// <remarks>
/// Implemented by the SQLite and PostgreSQL stores (the streams live in their database) and by a storage folder
/// (<c>UseStorageFolder</c>), which several nodes may share. The shared contract suite in the tests holds every
/// implementation to the same behaviour.
/// </remarks>
public interface IStreamStore
{
    /// <summary>
    /// Writes <paramref name="content"/> from its current position to its end, hashing it on the way, and returns its
    /// SHA-256 and length. When that content is stored already the copy is dropped and the stored one is touched
    /// (<see cref="TouchAsync"/>). Content is visible to <see cref="OpenReadAsync"/> only once complete: a write that
    /// fails or is cancelled leaves nothing readable behind.
    /// </summary>
    /// <exception cref="StoreUnavailableException">The store or folder cannot be written (down, full, read-only); says which and where.</exception>
    Task<StoredStream> WriteAsync(Stream content, CancellationToken cancellationToken);

    /// <summary>
    /// Opens stored content for reading from its start. The stream reads lazily, never the whole content at once; the
    /// caller verifies length and hash as it reads (the engine does).
    /// </summary>
    /// <exception cref="StreamNotFoundException">No such content is stored.</exception>
    Task<Stream> OpenReadAsync(StoredStream stream, CancellationToken cancellationToken);

    /// <summary>
    /// Marks content as just used, so that a sweep of content untouched since an earlier time keeps it; returns false
    /// when no such content is stored.
    /// </summary>
    Task<bool> TouchAsync(StoredStream stream, CancellationToken cancellationToken);

    /// <summary>Lists the stored contents last written or touched before <paramref name="untouchedSince"/>: candidates for a sweep.</summary>
    IAsyncEnumerable<StoredStream> ListUntouchedAsync(DateTimeOffset untouchedSince, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes content unless it was written or touched at or after <paramref name="untouchedSince"/> (checked as it is
    /// deleted, so that a write racing the sweep keeps it). Returns whether it was deleted; false when it is not stored.
    /// </summary>
    Task<bool> DeleteAsync(StoredStream stream, DateTimeOffset untouchedSince, CancellationToken cancellationToken);
}

/// <summary>Which stored stream contents a run store's checkpoints still refer to.</summary>
public interface IStreamReferences
{
    /// <summary>The SHA-256 (lower-case hex) of every stream content any kept checkpoint of any run refers to.</summary>
    Task<IReadOnlySet<string>> GetReferencedStreamsAsync(CancellationToken cancellationToken);
}
