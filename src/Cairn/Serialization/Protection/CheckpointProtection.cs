using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Cairn.Serialization.Protection;

/// <summary>
/// Turns serialized states, inputs and results into their stored form and back: compressed with
/// <see cref="CairnOptions.StateCompression"/>, encrypted with AES-256-GCM under the key provider's current key, in a
/// <see cref="ProtectionEnvelope"/>. Plain bytes (no envelope) read as they are, whatever is configured now.
/// </summary>
internal sealed class CheckpointProtection(StateCompression compression, ICheckpointKeyProvider? keys)
{
    public const int NonceSize = 12;
    public const int TagSize = 16;
    private static readonly byte[] EncryptionInfo = Encoding.ASCII.GetBytes("cairn/aes-256-gcm/v1");
    private static readonly byte[] NonceInfo = Encoding.ASCII.GetBytes("cairn/stream-nonce/v1");
    private readonly ConcurrentDictionary<string, DerivedKey> _derived = new(StringComparer.Ordinal);

    /// <summary>Nothing is compressed or encrypted: stored bytes are serialized bytes.</summary>
    public static CheckpointProtection None { get; } = new(StateCompression.None, null);

    public StateCompression Compression { get; } = compression;

    public bool Encrypts => keys is not null;

    /// <summary>Whether anything new is written in an envelope.</summary>
    public bool IsOn => Compression != StateCompression.None || Encrypts;

    /// <summary>The stored form of serialized bytes: those bytes when protection is off, else an envelope.</summary>
    public byte[] Protect(byte[] serialized)
    {
        if (!IsOn)
        {
            return serialized;
        }

        var key = Encrypts ? Wait(CurrentKeyAsync(CancellationToken.None)) : null;
        var flags = (Compression == StateCompression.None ? EnvelopeFlags.None : EnvelopeFlags.Compressed) | (key is null ? EnvelopeFlags.None : EnvelopeFlags.Encrypted);
        var header = ProtectionEnvelope.Write(flags, Compression, key?.Id);
        var body = Compression == StateCompression.Brotli ? BrotliCodec.Compress(serialized) : serialized;
        if (key is null)
        {
            return [.. header, .. body];
        }

        var stored = new byte[header.Length + NonceSize + body.Length + TagSize];
        header.CopyTo(stored, 0);
        // Deterministic, as for stream frames: the same input under the same key is stored as the same bytes, so a
        // recovery ID given again with the same input still matches its stored checksum.
        var nonce = stored.AsSpan(header.Length, NonceSize);
        key.DeriveNonce(header, body, nonce);
        using var aes = new AesGcm(key.Encryption, TagSize);
        aes.Encrypt(nonce, body, stored.AsSpan(header.Length + NonceSize, body.Length), stored.AsSpan(stored.Length - TagSize), header);
        return stored;
    }

    /// <summary>The serialized bytes of a stored form, checked and decrypted.</summary>
    /// <param name="stored">The stored bytes (their checksum already checked where one is kept).</param>
    /// <param name="what">How messages name them, capitalized.</param>
    /// <exception cref="CheckpointCorruptedException">The envelope cannot be read, its key is unknown, or it fails authentication.</exception>
    public ReadOnlySpan<byte> Unprotect(ReadOnlySpan<byte> stored, string what)
    {
        if (!ProtectionEnvelope.IsEnvelope(stored))
        {
            return stored;
        }

        if (ProtectionEnvelope.TryRead(stored, out var header) is { } problem)
        {
            throw new CheckpointCorruptedException($"{what} cannot be read: {problem}. It is kept unchanged.");
        }

        var associated = stored[..header.Length];
        ReadOnlySpan<byte> body = stored[header.Length..];
        if (header.KeyId is { } keyId)
        {
            var key = Wait(FindKeyAsync(keyId, CancellationToken.None)) ?? throw new CheckpointCorruptedException(UnknownKey(what, keyId));
            if (body.Length < NonceSize + TagSize)
            {
                throw new CheckpointCorruptedException($"{what} is cut short: {body.Length} bytes after its envelope header, fewer than a nonce and a tag. It is kept unchanged.");
            }

            var plain = new byte[body.Length - NonceSize - TagSize];
            try
            {
                using var aes = new AesGcm(key.Encryption, TagSize);
                aes.Decrypt(body[..NonceSize], body[NonceSize..^TagSize], body[^TagSize..], plain, associated);
            }
            catch (AuthenticationTagMismatchException)
            {
                throw new CheckpointCorruptedException(
                    $"{what} fails authentication with key '{keyId}': it was changed after it was written, or key '{keyId}' is not the key it was written with. It is kept unchanged.");
            }

            body = plain;
        }

        if (header.Compression == StateCompression.Brotli)
        {
            body = BrotliCodec.Decompress(body)
                ?? throw new CheckpointCorruptedException($"{what} cannot be decompressed: its Brotli data is damaged or cut short. It is kept unchanged.");
        }

        return body;
    }

    /// <summary>The message for an envelope whose key the provider does not have (or no provider is configured).</summary>
    public string UnknownKey(string what, string keyId) => Encrypts
        ? $"{what} is encrypted with key '{keyId}', which the key provider does not know; add that key to the provider to read it. It is kept unchanged."
        : $"{what} is encrypted with key '{keyId}', but no key provider is configured: call UseEncryption(provider) on the engine builder with a provider that has that key. It is kept unchanged.";

    /// <summary>The current key, derived.</summary>
    public async ValueTask<DerivedKey> CurrentKeyAsync(CancellationToken cancellationToken)
    {
        var provider = keys ?? throw new InvalidOperationException("Encryption is not configured.");
        var key = await provider.GetCurrentKeyAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException("The checkpoint key provider returned no current key.");
        return Derive(key);
    }

    /// <summary>The key of that id, derived; null when the provider does not know it or none is configured.</summary>
    public async ValueTask<DerivedKey?> FindKeyAsync(string keyId, CancellationToken cancellationToken)
    {
        if (_derived.TryGetValue(keyId, out var derived))
        {
            return derived;
        }

        if (keys is null || await keys.FindKeyAsync(keyId, cancellationToken).ConfigureAwait(false) is not { } key || key.Id != keyId)
        {
            return null;
        }

        return Derive(key);
    }

    private DerivedKey Derive(CheckpointKey key)
    {
        if (_derived.TryGetValue(key.Id, out var derived) && derived.Matches(key))
        {
            return derived;
        }

        // Two keys from one: the AES key, and the key of the per-frame nonces of streams (HMAC-SHA256), never the same.
        derived = new DerivedKey(
            key.Id,
            key.Key.ToArray(),
            HKDF.DeriveKey(HashAlgorithmName.SHA256, key.Key.Span.ToArray(), 32, info: EncryptionInfo),
            HKDF.DeriveKey(HashAlgorithmName.SHA256, key.Key.Span.ToArray(), 32, info: NonceInfo));
        _derived[key.Id] = derived;
        return derived;
    }

    // Serialization is synchronous; a provider that completes synchronously (as CheckpointKeyRing does) costs no wait.
    private static T Wait<T>(ValueTask<T> task) => task.IsCompletedSuccessfully ? task.Result : task.AsTask().GetAwaiter().GetResult();
}

/// <summary>A key as the protection uses it: its id, and the AES and nonce keys derived from it.</summary>
internal sealed class DerivedKey(string id, byte[] source, byte[] encryption, byte[] nonce)
{
    public string Id { get; } = id;

    public byte[] Encryption { get; } = encryption;

    public byte[] Nonce { get; } = nonce;

    public bool Matches(CheckpointKey key) => key.Key.Span.SequenceEqual(source);

    /// <summary>
    /// The nonce of an encryption: HMAC-SHA256 of its associated data and plaintext under the nonce key, cut to 12 bytes.
    /// Equal plaintexts with equal associated data get equal nonces (and ciphertexts); any other pair differs but by chance.
    /// </summary>
    public void DeriveNonce(ReadOnlySpan<byte> associated, ReadOnlySpan<byte> plaintext, Span<byte> nonce)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Nonce);
        hmac.AppendData(associated);
        hmac.AppendData(plaintext);
        hmac.GetHashAndReset().AsSpan(0, nonce.Length).CopyTo(nonce);
    }
}
