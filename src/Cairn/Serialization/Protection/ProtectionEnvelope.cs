using System.Buffers.Binary;
using System.Text;

namespace Cairn.Serialization.Protection;

/// <summary>
/// The stored form of a compressed or encrypted state, input, result or stream, written only when compression or
/// encryption is on; bytes that do not start with <see cref="Magic"/> are plain serialized bytes, read as they are.
/// </summary>
/// <remarks>
/// Layout, version 1: magic <c>89 43 52 4E</c> ("\x89CRN": never the start of JSON or UTF-8 text), version (1 byte),
/// flags (1 byte: <see cref="EnvelopeFlags"/>), compression (1 byte: <see cref="StateCompression"/>), key id length L
/// (1 byte, 0 when not encrypted), key id (L bytes of UTF-8), payload. The header is the associated data of every
/// AES-GCM encryption of the payload, so a changed key id, flag or codec fails authentication.
/// Payload of a state: the (compressed) bytes, or when encrypted a 12-byte nonce, the ciphertext and the 16-byte tag.
/// Payload of a stream (<see cref="EnvelopeFlags.Framed"/>): frames of at most 1 MiB of content each, see <see cref="StreamFrames"/>.
/// </remarks>
internal static class ProtectionEnvelope
{
    public const byte Version = 1;

    /// <summary>The bytes before the key id: magic, version, flags, compression and the key id's length.</summary>
    public const int FixedLength = 8;

    public static ReadOnlySpan<byte> Magic => [0x89, (byte)'C', (byte)'R', (byte)'N'];

    public static bool IsEnvelope(ReadOnlySpan<byte> data) => data.Length >= Magic.Length && data[..Magic.Length].SequenceEqual(Magic);

    /// <summary>The header of a new envelope.</summary>
    public static byte[] Write(EnvelopeFlags flags, StateCompression compression, string? keyId)
    {
        var id = keyId is null ? [] : Encoding.UTF8.GetBytes(keyId);
        var header = new byte[FixedLength + id.Length];
        Magic.CopyTo(header);
        header[4] = Version;
        header[5] = (byte)flags;
        header[6] = (byte)compression;
        header[7] = checked((byte)id.Length);
        id.CopyTo(header, FixedLength);
        return header;
    }

    /// <summary>
    /// Reads the header at the start of <paramref name="data"/> (which starts with <see cref="Magic"/>); returns a reason
    /// when it cannot be read (too short, another version, unknown flags or codec).
    /// </summary>
    public static string? TryRead(ReadOnlySpan<byte> data, out EnvelopeHeader header)
    {
        header = default;
        if (data.Length < FixedLength)
        {
            return $"its envelope header is cut short at {data.Length} bytes";
        }

        if (data[4] != Version)
        {
            return $"its envelope is of version {data[4]}, which this version of Cairn does not know (it reads version {Version})";
        }

        var flags = (EnvelopeFlags)data[5];
        var compression = (StateCompression)data[6];
        if ((flags & ~(EnvelopeFlags.Compressed | EnvelopeFlags.Encrypted | EnvelopeFlags.Framed)) != 0 || !Enum.IsDefined(compression)
            || (compression == StateCompression.None) == flags.HasFlag(EnvelopeFlags.Compressed))
        {
            return $"its envelope has unknown flags {data[5]:x2} or compression {data[6]}";
        }

        var length = FixedLength + data[7];
        if (data.Length < length)
        {
            return $"its envelope header is cut short at {data.Length} bytes";
        }

        var keyId = data[7] == 0 ? null : Encoding.UTF8.GetString(data[FixedLength..length]);
        if (flags.HasFlag(EnvelopeFlags.Encrypted) != keyId is not null)
        {
            return "its envelope's key id does not match its flags";
        }

        header = new EnvelopeHeader(flags, compression, keyId, length);
        return null;
    }

    /// <summary>The associated data of a stream frame: the envelope header, the frame's index and whether it is the last.</summary>
    public static byte[] FrameData(ReadOnlySpan<byte> header, long index, bool last)
    {
        var data = new byte[header.Length + 9];
        header.CopyTo(data);
        BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(header.Length), index);
        data[^1] = last ? (byte)1 : (byte)0;
        return data;
    }
}

/// <summary>What an envelope holds.</summary>
[Flags]
internal enum EnvelopeFlags : byte
{
    None = 0,
    Compressed = 1,
    Encrypted = 2,
    Framed = 4,
}

/// <summary>A read envelope header: flags, codec, key id (null when not encrypted) and the header's length in bytes.</summary>
internal readonly record struct EnvelopeHeader(EnvelopeFlags Flags, StateCompression Compression, string? KeyId, int Length);
