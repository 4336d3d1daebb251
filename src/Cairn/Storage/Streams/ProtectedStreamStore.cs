using Cairn.Serialization.Protection;

namespace Cairn.Storage;

/// <summary>
/// Compresses and encrypts the named streams of runs on their way to the engine's stream store, and back on their way
/// out (<see cref="CairnOptions.StateCompression"/>, <see cref="CairnEngineBuilder.UseEncryption"/>): the content goes in
/// frames of 1 MiB, never whole in memory (<see cref="StreamFrames"/>).
/// </summary>
/// <remarks>
/// The store below names content by the SHA-256 of what it stores, here the protected form: that is the address the
/// checkpoints record and the sweep compares, and what is checked first on every read, before decryption. Frames are
/// encrypted deterministically (see <see cref="ProtectingStream"/>), so identical content under one key is stored once;
/// after a key rotation it is stored once more under the new key. Content stored without an envelope reads as before.
/// </remarks>
internal sealed class ProtectedStreamStore(IStreamStore inner, CheckpointProtection protection) : IStreamStore
{
    public IStreamStore Inner { get; } = inner;

    public async Task<StoredStream> WriteAsync(Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        var key = protection.Encrypts ? await protection.CurrentKeyAsync(cancellationToken).ConfigureAwait(false) : null;

        // Not disposed: the caller owns the content stream.
        var stored = new ProtectingStream(content, protection.Compression, key);
        return await Inner.WriteAsync(stored, cancellationToken).ConfigureAwait(false);
    }

    public async Task<Stream> OpenReadAsync(StoredStream stream, CancellationToken cancellationToken)
    {
        var raw = await Inner.OpenReadAsync(stream, cancellationToken).ConfigureAwait(false);
        var what = $"Stream content {stream}";
        return new UnprotectingStream(new VerifiedReadStream(raw, stream, what), protection, what);
    }

    public Task<bool> TouchAsync(StoredStream stream, CancellationToken cancellationToken) => Inner.TouchAsync(stream, cancellationToken);

    public IAsyncEnumerable<StoredStream> ListUntouchedAsync(DateTimeOffset untouchedSince, CancellationToken cancellationToken) =>
        Inner.ListUntouchedAsync(untouchedSince, cancellationToken);

    public Task<bool> DeleteAsync(StoredStream stream, DateTimeOffset untouchedSince, CancellationToken cancellationToken) =>
        Inner.DeleteAsync(stream, untouchedSince, cancellationToken);
}
