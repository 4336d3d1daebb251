using System.Security.Cryptography;
using Cairn.Storage;

namespace Cairn.StoreContract;

/// <summary>
/// Every behaviour an <see cref="IStreamStore"/> promises, described once: the SQLite and PostgreSQL stores, the storage
/// folder and the in-memory store each subclass it with a fresh store on the test's clock.
/// </summary>
public abstract class StreamStoreContract : IAsyncLifetime
{
    private IStreamStore? _streams;

    /// <summary>The store's clock; advance it instead of waiting.</summary>
    protected FakeTimeProvider Time { get; } = new();

    /// <summary>The store under test, created for this test.</summary>
    protected IStreamStore Streams => _streams ?? throw new InvalidOperationException("The store is created in InitializeAsync.");

    private static CancellationToken Ct => CancellationToken.None;

    /// <summary>Creates a fresh, empty stream store on <paramref name="time"/>.</summary>
    protected abstract Task<IStreamStore> CreateAsync(FakeTimeProvider time);

    /// <summary>Releases what <see cref="CreateAsync"/> made.</summary>
    protected virtual Task DestroyAsync() => Task.CompletedTask;

    public async Task InitializeAsync() => _streams = await CreateAsync(Time);

    public async Task DisposeAsync()
    {
        if (_streams is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }

        await DestroyAsync();
    }

    /// <summary>Deterministic bytes: <paramref name="length"/> of them from <paramref name="seed"/>.</summary>
    protected static byte[] Content(int length, int seed = 1)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static StoredStream Expected(byte[] content) => new(Convert.ToHexStringLower(SHA256.HashData(content)), content.Length);

    private async Task<byte[]> ReadAllAsync(StoredStream stored)
    {
        await using var stream = await Streams.OpenReadAsync(stored, Ct);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, Ct);
        return copy.ToArray();
    }

    private async Task<List<StoredStream>> UntouchedAsync(DateTimeOffset since)
    {
        var found = new List<StoredStream>();
        await foreach (var stream in Streams.ListUntouchedAsync(since, Ct))
        {
            found.Add(stream);
        }

        return found;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(100_000)]
    [InlineData(5 * 1024 * 1024 + 17)] // Over any chunk size a store might choose.
    public async Task WriteAsync_Content_ReturnsItsHashAndLengthAndReadsBackTheSame(int length)
    {
        var content = Content(length);

        var stored = await Streams.WriteAsync(new MemoryStream(content), Ct);

        Assert.Equal(Expected(content), stored);
        Assert.Equal(content, await ReadAllAsync(stored));
    }

    [Fact]
    public async Task WriteAsync_StreamNotAtItsStart_StoresFromItsPosition()
    {
        var content = Content(1000);
        var source = new MemoryStream(content) { Position = 400 };

        var stored = await Streams.WriteAsync(source, Ct);

        Assert.Equal(Expected(content[400..]), stored);
    }

    [Fact]
    public async Task WriteAsync_UnseekableStreamInSmallReads_StoresItWhole()
    {
        var content = Content(300_000, seed: 7);

        var stored = await Streams.WriteAsync(new SourceStream(content, chunk: 333), Ct);

        Assert.Equal(Expected(content), stored);
        Assert.Equal(content, await ReadAllAsync(stored));
    }

    [Fact]
    public async Task WriteAsync_SameContentTwice_StoresItOnceAndTouchesIt()
    {
        var content = Content(50_000);
        var first = await Streams.WriteAsync(new MemoryStream(content), Ct);
        Time.Advance(TimeSpan.FromHours(2));

        var second = await Streams.WriteAsync(new MemoryStream(content), Ct);

        Assert.Equal(first, second);
        Assert.Empty(await UntouchedAsync(Time.GetUtcNow() - TimeSpan.FromHours(1)));
        Assert.Equal(content, await ReadAllAsync(second));
    }

    [Fact]
    public async Task WriteAsync_SourceFailsHalfway_LeavesNothingReadable()
    {
        var content = Content(200_000);

        await Assert.ThrowsAsync<IOException>(() => Streams.WriteAsync(new SourceStream(content, chunk: 65_536, failAfter: 100_000), Ct));

        await Assert.ThrowsAsync<StreamNotFoundException>(() => Streams.OpenReadAsync(Expected(content), Ct));
        Assert.Empty(await UntouchedAsync(Time.GetUtcNow() + TimeSpan.FromDays(1)));
    }

    [Fact]
    public async Task OpenReadAsync_UnknownContent_ThrowsStreamNotFound()
    {
        var error = await Assert.ThrowsAsync<StreamNotFoundException>(() => Streams.OpenReadAsync(Expected(Content(10)), Ct));

        Assert.Contains(Expected(Content(10)).Sha256, error.Message);
    }

    [Fact]
    public async Task OpenReadAsync_ReadInPieces_ReturnsTheContentInOrder()
    {
        var content = Content(2 * 1024 * 1024 + 5, seed: 3);
        var stored = await Streams.WriteAsync(new MemoryStream(content), Ct);

        await using var stream = await Streams.OpenReadAsync(stored, Ct);
        var read = new MemoryStream();
        var buffer = new byte[7919];
        int n;
        while ((n = await stream.ReadAsync(buffer, Ct)) > 0)
        {
            read.Write(buffer, 0, n);
        }

        Assert.Equal(content, read.ToArray());
    }

    [Fact]
    public async Task ListUntouchedAsync_ListsOnlyContentUntouchedSinceTheTime()
    {
        var old = await Streams.WriteAsync(new MemoryStream(Content(10, seed: 1)), Ct);
        var touched = await Streams.WriteAsync(new MemoryStream(Content(10, seed: 2)), Ct);
        Time.Advance(TimeSpan.FromHours(2));
        var cutoff = Time.GetUtcNow() - TimeSpan.FromHours(1);
        Assert.True(await Streams.TouchAsync(touched, Ct));
        var fresh = await Streams.WriteAsync(new MemoryStream(Content(10, seed: 3)), Ct);

        var untouched = await UntouchedAsync(cutoff);

        Assert.Equal([old], untouched);
        Assert.DoesNotContain(fresh, untouched);
    }

    [Fact]
    public async Task TouchAsync_UnknownContent_ReturnsFalse()
    {
        Assert.False(await Streams.TouchAsync(Expected(Content(10)), Ct));
    }

    [Fact]
    public async Task DeleteAsync_UntouchedContent_DeletesIt()
    {
        var stored = await Streams.WriteAsync(new MemoryStream(Content(1000)), Ct);
        Time.Advance(TimeSpan.FromHours(2));

        Assert.True(await Streams.DeleteAsync(stored, Time.GetUtcNow() - TimeSpan.FromHours(1), Ct));

        await Assert.ThrowsAsync<StreamNotFoundException>(() => Streams.OpenReadAsync(stored, Ct));
        Assert.False(await Streams.TouchAsync(stored, Ct));
        Assert.False(await Streams.DeleteAsync(stored, Time.GetUtcNow(), Ct));
    }

    [Fact]
    public async Task DeleteAsync_ContentTouchedSinceTheTime_KeepsIt()
    {
        var content = Content(1000);
        var stored = await Streams.WriteAsync(new MemoryStream(content), Ct);
        Time.Advance(TimeSpan.FromHours(2));
        var cutoff = Time.GetUtcNow() - TimeSpan.FromHours(1);
        await Streams.WriteAsync(new MemoryStream(content), Ct); // Written again by another run: touched.

        Assert.False(await Streams.DeleteAsync(stored, cutoff, Ct));

        Assert.Equal(content, await ReadAllAsync(stored));
    }

    [Fact]
    public async Task WriteAsync_ConcurrentWritesOfTheSameContent_AllSucceedWithOneCopy()
    {
        var content = Content(400_000, seed: 9);

        var stored = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => Streams.WriteAsync(new MemoryStream(content), Ct))));

        Assert.All(stored, s => Assert.Equal(Expected(content), s));
        Assert.Equal(content, await ReadAllAsync(stored[0]));
        Time.Advance(TimeSpan.FromDays(1));
        Assert.Equal([Expected(content)], await UntouchedAsync(Time.GetUtcNow()));
    }

    /// <summary>
    /// A forward-only source that hands out at most <c>chunk</c> bytes a read, as a network stream does, and whose reads
    /// fail once <c>failAfter</c> bytes were read, as a dropped download does.
    /// </summary>
    protected sealed class SourceStream(byte[] content, int chunk, int failAfter = int.MaxValue) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position >= failAfter)
            {
                throw new IOException("the connection was reset");
            }

            var n = Math.Min(Math.Min(count, chunk), Math.Min(failAfter, content.Length) - _position);
            Array.Copy(content, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
