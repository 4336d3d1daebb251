using System.Buffers;
using System.Security.Cryptography;

namespace Cairn.Storage;

/// <summary>What every stream store does with content on its way in: read it in pooled chunks, hash it, hand each chunk on.</summary>
internal static class StreamContent
{
    /// <summary>The size of the chunks content is read and written in: large enough for few round trips, small enough for memory.</summary>
    public const int ChunkSize = 1024 * 1024;

    /// <summary>
    /// Reads <paramref name="source"/> to its end in chunks of up to <see cref="ChunkSize"/> bytes (full chunks but the
    /// last, however the source hands out its bytes), gives each to <paramref name="write"/>, and returns the content's
    /// SHA-256 and length. The chunk is lent: <paramref name="write"/> must be done with it when its task completes.
    /// </summary>
    public static async Task<StoredStream> CopyAsync(Stream source, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            long length = 0;
            while (true)
            {
                var filled = 0;
                int read;
                while (filled < ChunkSize && (read = await source.ReadAsync(buffer.AsMemory(filled, ChunkSize - filled), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    filled += read;
                }

                if (filled == 0)
                {
                    break;
                }

                hash.AppendData(buffer, 0, filled);
                await write(buffer.AsMemory(0, filled), cancellationToken).ConfigureAwait(false);
                length += filled;
                if (filled < ChunkSize)
                {
                    break;
                }
            }

            return new StoredStream(Convert.ToHexStringLower(hash.GetHashAndReset()), length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
