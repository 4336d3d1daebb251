using System.Buffers.Binary;
using System.Security.Cryptography;
using Cairn.Storage;

namespace Cairn.Serialization.Protection;

/// <summary>
/// Reads a stored stream and gives its content: frames checked, decrypted and decompressed one at a time, never the
/// whole stream. Content stored without an envelope (before protection was turned on) is given as it is. Every failure
/// is a <see cref="StreamCorruptedException"/> naming the content, and the key id where one is involved.
/// </summary>
/// <param name="stored">The stored bytes, already checked against their recorded SHA-256 and length as they are read.</param>
/// <param name="protection">Where keys come from.</param>
/// <param name="what">How messages name the content, capitalized.</param>
internal sealed class UnprotectingStream(Stream stored, CheckpointProtection protection, string what) : ChunkedReadStream
{
    private readonly byte[] _frameHeader = new byte[StreamFrames.HeaderSize];
    private byte[]? _buffer;
    private byte[]? _header;
    private EnvelopeHeader _envelope;
    private DerivedKey? _key;
    private bool _plain;
    private bool _started;
    private bool _done;
    private long _index;

    protected override async ValueTask<ReadOnlyMemory<byte>?> NextAsync(CancellationToken cancellationToken)
    {
        if (!_started)
        {
            _started = true;
            return await StartAsync(cancellationToken).ConfigureAwait(false);
        }

        if (_done)
        {
            return null;
        }

        if (_plain)
        {
            var n = await stored.ReadAsync(_buffer, cancellationToken).ConfigureAwait(false);
            _done = n == 0;
            return n == 0 ? null : _buffer.AsMemory(0, n);
        }

        return await ReadFrameAsync(cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<ReadOnlyMemory<byte>?> StartAsync(CancellationToken cancellationToken)
    {
        _buffer = new byte[StreamFrames.ContentSize];
        var magic = ProtectionEnvelope.Magic.Length;
        var n = await stored.ReadAtLeastAsync(_buffer.AsMemory(0, ProtectionEnvelope.FixedLength), ProtectionEnvelope.FixedLength, throwOnEndOfStream: false, cancellationToken)
            .ConfigureAwait(false);
        if (n < magic || !ProtectionEnvelope.IsEnvelope(_buffer.AsSpan(0, n)))
        {
            _plain = true;
            return _buffer.AsMemory(0, n);
        }

        if (n < ProtectionEnvelope.FixedLength)
        {
            throw Corrupt("its envelope header is cut short");
        }

        var length = ProtectionEnvelope.FixedLength + _buffer[7];
        await ReadExactlyAsync(_buffer.AsMemory(n, length - n), "its envelope header", cancellationToken).ConfigureAwait(false);
        var problem = ProtectionEnvelope.TryRead(_buffer.AsSpan(0, length), out _envelope);
        if (problem is not null || !_envelope.Flags.HasFlag(EnvelopeFlags.Framed))
        {
            throw Corrupt(problem ?? "its envelope is not that of a stream");
        }

        _header = _buffer.AsSpan(0, length).ToArray();
        if (_envelope.KeyId is { } keyId)
        {
            _key = await protection.FindKeyAsync(keyId, cancellationToken).ConfigureAwait(false)
                ?? throw new StreamCorruptedException(protection.UnknownKey(what, keyId));
        }

        return ReadOnlyMemory<byte>.Empty;
    }

    private async ValueTask<ReadOnlyMemory<byte>?> ReadFrameAsync(CancellationToken cancellationToken)
    {
        var n = await stored.ReadAtLeastAsync(_frameHeader, _frameHeader.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (n < _frameHeader.Length)
        {
            throw Corrupt(n == 0 ? $"it ends after {_index:N0} frames without its last frame (truncated)" : $"frame {_index:N0} is cut short");
        }

        var last = _frameHeader[0] switch
        {
            0 => false,
            1 => true,
            _ => throw Corrupt($"frame {_index:N0} has an unknown flag {_frameHeader[0]:x2}"),
        };
        var length = BinaryPrimitives.ReadInt32LittleEndian(_frameHeader.AsSpan(1));
        if (length < 0 || length > StreamFrames.MaxBodySize)
        {
            throw Corrupt($"frame {_index:N0} claims {length:N0} bytes, more than a frame holds");
        }

        var body = new byte[length];
        await ReadExactlyAsync(body, $"frame {_index:N0}", cancellationToken).ConfigureAwait(false);
        ReadOnlyMemory<byte> content = body;
        if (_key is { } key)
        {
            content = Decrypt(key, body, last);
        }

        if (_envelope.Compression == StateCompression.Brotli)
        {
            content = BrotliCodec.Decompress(content.Span, StreamFrames.ContentSize) is { Length: <= StreamFrames.ContentSize } decompressed
                ? decompressed
                : throw Corrupt($"frame {_index:N0} cannot be decompressed");
        }

        _index++;
        if (last)
        {
            _done = true;

            // Read on to the end, so that the stored bytes' length and SHA-256 are checked, and nothing follows the last frame.
            if (await stored.ReadAsync(_frameHeader.AsMemory(0, 1), cancellationToken).ConfigureAwait(false) != 0)
            {
                throw Corrupt("bytes follow its last frame");
            }
        }

        return content;
    }

    private byte[] Decrypt(DerivedKey key, byte[] body, bool last)
    {
        if (body.Length < CheckpointProtection.NonceSize + CheckpointProtection.TagSize)
        {
            throw Corrupt($"frame {_index:N0} is shorter than a nonce and a tag");
        }

        var content = new byte[body.Length - CheckpointProtection.NonceSize - CheckpointProtection.TagSize];
        try
        {
            using var aes = new AesGcm(key.Encryption, CheckpointProtection.TagSize);
            aes.Decrypt(
                body.AsSpan(0, CheckpointProtection.NonceSize), body.AsSpan(CheckpointProtection.NonceSize, content.Length), body.AsSpan(body.Length - CheckpointProtection.TagSize),
                content, ProtectionEnvelope.FrameData(_header, _index, last));
        }
        catch (AuthenticationTagMismatchException)
        {
            throw Corrupt(
                $"frame {_index:N0} fails authentication with key '{key.Id}': it was changed, moved or cut after it was written, or key '{key.Id}' is not the key it was written with");
        }

        return content;
    }

    private async ValueTask ReadExactlyAsync(Memory<byte> buffer, string part, CancellationToken cancellationToken)
    {
        if (await stored.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false) < buffer.Length)
        {
            throw Corrupt($"{part} is cut short (truncated)");
        }
    }

    private StreamCorruptedException Corrupt(string problem) => new($"{what} cannot be read: {problem}. It is kept as found.");

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            stored.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await stored.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
