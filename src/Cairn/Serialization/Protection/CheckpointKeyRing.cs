using System.Collections.Concurrent;

namespace Cairn.Serialization.Protection;

/// <summary>
/// A key provider holding its keys in memory: the last key added is the current one, the others still decrypt what they
/// encrypted. Load the keys from where the application keeps its secrets.
/// </summary>
public sealed class CheckpointKeyRing : ICheckpointKeyProvider
{
    private readonly ConcurrentDictionary<string, CheckpointKey> _keys = new(StringComparer.Ordinal);
    private CheckpointKey? _current;

    /// <summary>Creates a ring of <paramref name="keys"/>; the last one is current.</summary>
    public CheckpointKeyRing(params CheckpointKey[] keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        foreach (var key in keys)
        {
            Add(key);
        }
    }

    /// <summary>Adds a key and makes it the current one (a rotation); the keys added before still decrypt.</summary>
    /// <exception cref="ArgumentException">Another key has the same id.</exception>
    public void Add(CheckpointKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!_keys.TryAdd(key.Id, key) && !_keys[key.Id].Key.Span.SequenceEqual(key.Key.Span))
        {
            throw new ArgumentException($"Another key has the id '{key.Id}'; a key id names one key for good.", nameof(key));
        }

        Volatile.Write(ref _current, key);
    }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">The ring has no key.</exception>
    public ValueTask<CheckpointKey> GetCurrentKeyAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(Volatile.Read(ref _current) ?? throw new InvalidOperationException("The checkpoint key ring has no key: add one."));

    /// <inheritdoc />
    public ValueTask<CheckpointKey?> FindKeyAsync(string keyId, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_keys.GetValueOrDefault(keyId));
}
