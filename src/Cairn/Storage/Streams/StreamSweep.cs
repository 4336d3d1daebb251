namespace Cairn.Storage;

/// <summary>
/// Deletes stream content that no kept checkpoint refers to and that nothing wrote or touched for a while: the streams
/// of completed, purged or re-run runs, and those put by attempts that died before their recovery point.
/// </summary>
internal static class StreamSweep
{
    /// <summary>
    /// Sweeps content untouched since <paramref name="untouchedSince"/>. The references are read first: content a
    /// checkpoint comes to refer to later was written or touched just before (the engine touches it before the save),
    /// so it is newer than the cutoff and the store's guarded delete keeps it.
    /// </summary>
    /// <returns>How many contents were deleted, and their bytes.</returns>
    public static async Task<(int Count, long Bytes)> RunAsync(
        IStreamStore streams, IStreamReferences references, DateTimeOffset untouchedSince, CancellationToken cancellationToken)
    {
        var referenced = await references.GetReferencedStreamsAsync(cancellationToken).ConfigureAwait(false);
        var count = 0;
        long bytes = 0;
        await foreach (var stream in streams.ListUntouchedAsync(untouchedSince, cancellationToken).ConfigureAwait(false))
        {
            if (!referenced.Contains(stream.Sha256) && await streams.DeleteAsync(stream, untouchedSince, cancellationToken).ConfigureAwait(false))
            {
                count++;
                bytes += stream.Length;
            }
        }

        return (count, bytes);
    }
}
