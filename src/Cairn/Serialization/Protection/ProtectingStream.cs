using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Cairn.Serialization.Protection;

/// <summary>
/// Reads content from <paramref name="source"/> and gives its stored form: the envelope header, then frames of at most
/// <see cref="StreamFrames.ContentSize"/> bytes of content, each compressed and encrypted on its own.
/// </summary>
/// <remarks>
/// A frame's nonce is <see cref="DerivedKey.DeriveNonce"/> of its associated data (header, index, last-frame flag) and
/// its bytes: the same content under the same key gives the same stored bytes, so the stream
/// store, which names content by the SHA-256 of what it stores, still stores identical content once; different frames
/// never share a nonce unless they are identical.
/// </remarks>
internal sealed class ProtectingStream(Stream source, StateCompression compression, DerivedKey? key) : ChunkedReadStream
{
    private readonly byte[] _chunk = new byte[StreamFrames.ContentSize];
    private byte[]? _header;
    private long _index;
    private bool _done;

    protected override async ValueTask<ReadOnlyMemory<byte>?> NextAsync(CancellationToken cancellationToken)
    {
        if (_header is null)
        {
            var flags = EnvelopeFlags.Framed | (compression == StateCompression.None ? EnvelopeFlags.None : EnvelopeFlags.Compressed)
                | (key is null ? EnvelopeFlags.None : EnvelopeFlags.Encrypted);
            _header = ProtectionEnvelope.Write(flags, compression, key?.Id);
            return _header;
        }

        if (_done)
        {
            return null;
        }

        var filled = await source.ReadAtLeastAsync(_chunk, _chunk.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);

        // A full chunk may be followed by nothing: the last frame is then empty, so a reader always knows where the end is.
        var last = filled < _chunk.Length;
        _done = last;
        ReadOnlySpan<byte> body = _chunk.AsSpan(0, filled);
        if (compression == StateCompression.Brotli)
        {
            body = BrotliCodec.Compress(body);
        }

        var frame = new byte[StreamFrames.HeaderSize + body.Length + (key is null ? 0 : CheckpointProtection.NonceSize + CheckpointProtection.TagSize)];
        frame[0] = last ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(1), frame.Length - StreamFrames.HeaderSize);
        if (key is null)
        {
            body.CopyTo(frame.AsSpan(StreamFrames.HeaderSize));
        }
        else
        {
            var associated = ProtectionEnvelope.FrameData(_header, _index, last);
            var nonce = frame.AsSpan(StreamFrames.HeaderSize, CheckpointProtection.NonceSize);
            key.DeriveNonce(associated, body, nonce);
            using var aes = new AesGcm(key.Encryption, CheckpointProtection.TagSize);
            aes.Encrypt(nonce, body, frame.AsSpan(StreamFrames.HeaderSize + CheckpointProtection.NonceSize, body.Length), frame.AsSpan(frame.Length - CheckpointProtection.TagSize), associated);
        }

        _index++;
        return frame;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            source.Dispose();
        }

        base.Dispose(disposing);
    }
}
