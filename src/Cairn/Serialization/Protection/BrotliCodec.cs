using System.Buffers;
using System.IO.Compression;

namespace Cairn.Serialization.Protection;

/// <summary>Brotli at quality 1 over whole buffers: states and stream frames (docs/benchmarks.md says why quality 1).</summary>
internal static class BrotliCodec
{
    private const int Quality = 1;
    private const int Window = 22;

    public static byte[] Compress(ReadOnlySpan<byte> data)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BrotliEncoder.GetMaxCompressedLength(data.Length));
        try
        {
            if (!BrotliEncoder.TryCompress(data, buffer, out var written, Quality, Window))
            {
                throw new InvalidOperationException("Brotli could not compress into its maximum compressed length.");
            }

            return buffer.AsSpan(0, written).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Decompresses <paramref name="data"/>; null when it is not complete Brotli data or would exceed <paramref name="maxLength"/> bytes.</summary>
    public static byte[]? Decompress(ReadOnlySpan<byte> data, int maxLength = int.MaxValue)
    {
        using var decoder = new BrotliDecoder();
        var output = new byte[Math.Max(4096, data.Length * 4)];
        var written = 0;
        while (true)
        {
            var status = decoder.Decompress(data, output.AsSpan(written), out var consumed, out var produced);
            data = data[consumed..];
            written += produced;
            switch (status)
            {
                case OperationStatus.Done:
                    return data.IsEmpty ? output.AsSpan(0, written).ToArray() : null;
                case OperationStatus.DestinationTooSmall when output.Length < Math.Min(maxLength, Array.MaxLength):
                    Array.Resize(ref output, (int)Math.Min((long)output.Length * 2, Math.Min(maxLength, Array.MaxLength)));
                    break;
                default:
                    return null;
            }
        }
    }
}
