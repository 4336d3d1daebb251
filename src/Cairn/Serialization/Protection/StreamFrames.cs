namespace Cairn.Serialization.Protection;

/// <summary>
/// The frames of a stored stream, after its envelope header: each is a last-frame flag (1 byte: 1 for the last frame),
/// the length of its body (4 bytes, little-endian) and its body: the frame's content (at most <see cref="ContentSize"/>
/// bytes), compressed when the envelope says so, and when encrypted a 12-byte nonce, that ciphertext and a 16-byte tag
/// whose associated data is the envelope header, the frame's index (8 bytes, little-endian) and the flag. A reordered,
/// dropped or cut frame thus fails authentication or ends the stream before its last frame.
/// </summary>
internal static class StreamFrames
{
    /// <summary>The most content in one frame: 1 MiB.</summary>
    public const int ContentSize = 1024 * 1024;

    public const int HeaderSize = 5;

    /// <summary>The largest body a frame may claim: its content, compressed (Brotli may grow it a little), with nonce and tag.</summary>
    public const int MaxBodySize = ContentSize + (ContentSize / 64) + 1024;
}
