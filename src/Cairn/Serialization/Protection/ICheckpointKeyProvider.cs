namespace Cairn.Serialization.Protection;

/// <summary>
/// Where the engine gets the keys that encrypt states, inputs, results and streams at rest
/// (<see cref="CairnEngineBuilder.UseEncryption"/>). New envelopes use the current key; each envelope records its key
/// id, so that after a rotation the older ones are still read with the key they were written with.
/// </summary>
/// <remarks>
/// The engine asks for the current key at every write and for a key by id on the first read of that id (then keeps the
/// key it derived). Serialization is synchronous: a provider whose calls do not complete synchronously is waited for,
/// so a provider backed by a remote key service should cache its keys.
/// </remarks>
public interface ICheckpointKeyProvider
{
    /// <summary>The key new checkpoints and streams are encrypted with.</summary>
    ValueTask<CheckpointKey> GetCurrentKeyAsync(CancellationToken cancellationToken);

    /// <summary>The key of id <paramref name="keyId"/>, or null when the provider has no such key.</summary>
    ValueTask<CheckpointKey?> FindKeyAsync(string keyId, CancellationToken cancellationToken);
}
