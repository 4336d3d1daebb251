using System.Text;

namespace Cairn.Serialization.Protection;

/// <summary>A key that encrypts checkpoints and streams at rest (AES-256-GCM), with the id stored beside what it encrypted.</summary>
public sealed class CheckpointKey
{
    /// <summary>Names a key.</summary>
    /// <param name="id">Its id, stored in clear in every envelope it encrypts: 1 to 255 UTF-8 bytes, no secret.</param>
    /// <param name="key">The key: 32 random bytes. The instance keeps a copy.</param>
    /// <exception cref="ArgumentException">The id is empty or longer than 255 UTF-8 bytes, or the key is not 32 bytes.</exception>
    public CheckpointKey(string id, ReadOnlySpan<byte> key)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        if (Encoding.UTF8.GetByteCount(id) > 255)
        {
            throw new ArgumentException($"The key id '{id}' is longer than 255 UTF-8 bytes.", nameof(id));
        }

        if (key.Length != 32)
        {
            throw new ArgumentException($"Key '{id}' is {key.Length} bytes; an AES-256 key is 32 bytes.", nameof(key));
        }

        Id = id;
        Key = key.ToArray();
    }

    /// <summary>The key's id.</summary>
    public string Id { get; }

    /// <summary>The key's 32 bytes.</summary>
    public ReadOnlyMemory<byte> Key { get; }

    /// <inheritdoc />
    public override string ToString() => $"key '{Id}'";
}
