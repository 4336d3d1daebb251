using System.Buffers.Binary;
using System.Security.Cryptography;
using Cairn.Serialization.Protection;
using Cairn.Storage;

namespace Cairn.Tests.Serialization.Protection;

/// <summary>Streams at rest through <see cref="ProtectedStreamStore"/>: frames, rotation, dedupe, tampering, truncation.</summary>
public sealed class ProtectedStreamStoreTests : IDisposable
{
    private static readonly byte[] Content = ProtectionKeys.RandomBytes((3 * StreamFrames.ContentSize) + 11, seed: 4);
    private readonly InMemoryRunStore _inner = new();
    private readonly CheckpointKeyRing _ring = new(ProtectionKeys.Key("k1", 1));

    private static CancellationToken Ct => CancellationToken.None;

    private ProtectedStreamStore Store(StateCompression compression = StateCompression.None, bool encrypt = true) =>
        new(_inner, new CheckpointProtection(compression, encrypt ? _ring : null));

    public void Dispose() => _inner.DisposeAsync().AsTask().GetAwaiter().GetResult();

    private static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        await using (stream)
        {
            var copy = new MemoryStream();
            await stream.CopyToAsync(copy, 64 * 1024, Ct);
            return copy.ToArray();
        }
    }

    [Theory]
    [InlineData(0, StateCompression.None, true)]
    [InlineData(StreamFrames.ContentSize * 2, StateCompression.None, true)] // a full last chunk: the last frame is empty
    [InlineData((3 * StreamFrames.ContentSize) + 11, StateCompression.None, true)]
    [InlineData((3 * StreamFrames.ContentSize) + 11, StateCompression.Brotli, true)]
    [InlineData((3 * StreamFrames.ContentSize) + 11, StateCompression.Brotli, false)]
    public async Task WriteAsync_ThenOpenReadAsync_GivesTheContentBack(int length, StateCompression compression, bool encrypt)
    {
        var store = Store(compression, encrypt);
        var content = Content.AsSpan(0, Math.Min(length, Content.Length)).ToArray();
        if (length > Content.Length)
        {
            content = ProtectionKeys.RandomBytes(length, seed: 5);
        }

        var stored = await store.WriteAsync(new MemoryStream(content), Ct);

        Assert.Equal(content, await ReadAllAsync(await store.OpenReadAsync(stored, Ct)));
        var raw = await ReadAllAsync(await _inner.OpenReadAsync(stored, Ct));
        Assert.True(ProtectionEnvelope.IsEnvelope(raw));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(raw)), stored.Sha256);
    }

    [Fact]
    public async Task WriteAsync_SameContentTwice_IsStoredOnce()
    {
        var store = Store(StateCompression.Brotli);

        var first = await store.WriteAsync(new MemoryStream(Content), Ct);
        var second = await store.WriteAsync(new MemoryStream(Content), Ct);

        Assert.Equal(first, second);
        Assert.Single(await _inner.ListUntouchedAsync(DateTimeOffset.MaxValue, Ct).ToListAsync(Ct));
    }

    [Fact]
    public async Task OpenReadAsync_AfterAKeyRotation_ReadsOldAndNewContent()
    {
        var store = Store();
        var old = await store.WriteAsync(new MemoryStream(Content), Ct);

        _ring.Add(ProtectionKeys.Key("k2", 2));
        var rotated = await store.WriteAsync(new MemoryStream(Content), Ct);

        Assert.NotEqual(old, rotated);
        Assert.Null(ProtectionEnvelope.TryRead(await ReadAllAsync(await _inner.OpenReadAsync(rotated, Ct)), out var header));
        Assert.Equal("k2", header.KeyId);
        Assert.Equal(Content, await ReadAllAsync(await store.OpenReadAsync(old, Ct)));
        Assert.Equal(Content, await ReadAllAsync(await store.OpenReadAsync(rotated, Ct)));
    }

    [Fact]
    public async Task OpenReadAsync_KeyTheProviderDoesNotKnow_ThrowsNamingTheKey()
    {
        var stored = await Store().WriteAsync(new MemoryStream(Content), Ct);
        var other = new ProtectedStreamStore(_inner, new CheckpointProtection(StateCompression.None, new CheckpointKeyRing(ProtectionKeys.Key("k2", 2))));

        var error = await Assert.ThrowsAsync<StreamCorruptedException>(async () => await ReadAllAsync(await other.OpenReadAsync(stored, Ct)));

        Assert.Contains($"Stream content {stored}", error.Message, StringComparison.Ordinal);
        Assert.Contains("key 'k1', which the key provider does not know", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenReadAsync_PlainContentStoredBeforeProtection_ReadsAsItIs()
    {
        var stored = await _inner.WriteAsync(new MemoryStream(Content), Ct);

        Assert.Equal(Content, await ReadAllAsync(await Store(StateCompression.Brotli).OpenReadAsync(stored, Ct)));
    }

    [Fact]
    public async Task OpenReadAsync_ByteChangedInAFrame_ThrowsNamingFrameAndKey()
    {
        var raw = await StoredFormAsync();
        raw[^100] ^= 1; // in frame 2: frame 3 holds the last 11 bytes

        var error = await ReadRewrittenAsync(raw);

        Assert.Contains("frame 2 fails authentication with key 'k1'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenReadAsync_FramesCutAfterTheFirst_ThrowsTruncated()
    {
        var raw = await StoredFormAsync();

        var error = await ReadRewrittenAsync(raw[..FrameEnd(raw, 0)]);

        Assert.Contains("without its last frame (truncated)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenReadAsync_FrameCutInTheMiddle_ThrowsTruncated()
    {
        var raw = await StoredFormAsync();

        var error = await ReadRewrittenAsync(raw[..(FrameEnd(raw, 0) + 1000)]);

        Assert.Contains("frame 1 is cut short (truncated)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenReadAsync_TwoFramesSwapped_FailsAuthentication()
    {
        var raw = await StoredFormAsync();
        var (header, first, second) = (FrameEnd(raw, -1), FrameEnd(raw, 0), FrameEnd(raw, 1));
        byte[] swapped = [.. raw[..header], .. raw[first..second], .. raw[header..first], .. raw[second..]];

        var error = await ReadRewrittenAsync(swapped);

        Assert.Contains("frame 0 fails authentication with key 'k1'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenReadAsync_StoredBytesChangedInPlace_ThrowsStreamCorrupted()
    {
        var folder = Directory.CreateTempSubdirectory("cairn-protect-").FullName;
        try
        {
            var store = new ProtectedStreamStore(new FolderStreamStore(folder, TimeProvider.System), new CheckpointProtection(StateCompression.None, _ring));
            var stored = await store.WriteAsync(new MemoryStream(Content), Ct);
            var file = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Single(f => f.Contains(stored.Sha256, StringComparison.Ordinal));
            var bytes = await File.ReadAllBytesAsync(file, Ct);
            bytes[^1] ^= 1;
            await File.WriteAllBytesAsync(file, bytes, Ct);

            await Assert.ThrowsAsync<StreamCorruptedException>(async () => await ReadAllAsync(await store.OpenReadAsync(stored, Ct)));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private async Task<byte[]> StoredFormAsync()
    {
        var stored = await Store().WriteAsync(new MemoryStream(Content), Ct);
        return await ReadAllAsync(await _inner.OpenReadAsync(stored, Ct));
    }

    /// <summary>Stores changed bytes as content of their own (so their SHA-256 matches) and reads them through the protection.</summary>
    private async Task<StreamCorruptedException> ReadRewrittenAsync(byte[] raw)
    {
        var stored = await _inner.WriteAsync(new MemoryStream(raw), Ct);
        var error = await Assert.ThrowsAsync<StreamCorruptedException>(async () => await ReadAllAsync(await Store().OpenReadAsync(stored, Ct)));
        Assert.Contains(stored.Sha256, error.Message, StringComparison.Ordinal);
        return error;
    }

    /// <summary>Where frame <paramref name="index"/> ends in a stored form (-1: where the envelope header ends).</summary>
    private static int FrameEnd(byte[] raw, int index)
    {
        var position = ProtectionEnvelope.FixedLength + raw[7];
        for (var i = 0; i <= index; i++)
        {
            position += StreamFrames.HeaderSize + BinaryPrimitives.ReadInt32LittleEndian(raw.AsSpan(position + 1));
        }

        return position;
    }
}
