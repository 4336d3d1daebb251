using Cairn.Storage;

namespace Cairn.Tests.Storage;

public sealed class FolderStreamStoreContractTests : StreamStoreContract
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "cairn-folder-tests", Guid.NewGuid().ToString("N"));

    private static CancellationToken Ct => CancellationToken.None;

    protected override Task<IStreamStore> CreateAsync(FakeTimeProvider time)
    {
        Directory.CreateDirectory(_folder);
        return Task.FromResult<IStreamStore>(new FolderStreamStore(_folder, time));
    }

    protected override Task DestroyAsync()
    {
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task WriteAsync_Content_IsOneFileUnderItsHashStampedWithTheClock()
    {
        var stored = await Streams.WriteAsync(new MemoryStream(Content(1000)), Ct);

        var file = new FileInfo(Path.Combine(_folder, "sha256", stored.Sha256[..2], stored.Sha256));
        Assert.Equal(1000, file.Length);
        Assert.Equal(Time.GetUtcNow().UtcDateTime, file.LastWriteTimeUtc);
        Assert.Empty(Directory.GetFiles(Path.Combine(_folder, "tmp")));
    }

    [Fact]
    public async Task WriteAsync_SourceFails_LeavesNoTemporaryFile()
    {
        await Assert.ThrowsAsync<IOException>(() => Streams.WriteAsync(new FailingStream(), Ct));

        Assert.Empty(Directory.GetFiles(Path.Combine(_folder, "tmp")));
        Assert.False(Directory.Exists(Path.Combine(_folder, "sha256")));
    }

    [Fact]
    public async Task ListUntouchedAsync_DeletesPartialFilesLeftBeforeTheCutoff_AndKeepsYoungerOnes()
    {
        var temporary = Directory.CreateDirectory(Path.Combine(_folder, "tmp")).FullName;
        var old = Path.Combine(temporary, "old.part");
        var young = Path.Combine(temporary, "young.part");
        await File.WriteAllBytesAsync(old, Content(10), Ct);
        await File.WriteAllBytesAsync(young, Content(10), Ct);
        File.SetLastWriteTimeUtc(old, Time.GetUtcNow().AddHours(-2).UtcDateTime);
        File.SetLastWriteTimeUtc(young, Time.GetUtcNow().UtcDateTime);

        await foreach (var _ in Streams.ListUntouchedAsync(Time.GetUtcNow().AddHours(-1), Ct))
        {
        }

        Assert.Equal([young], Directory.GetFiles(temporary));
    }

    [Fact]
    public async Task TouchAsync_StoredContent_SetsItsLastWriteTimeToTheClock()
    {
        var stored = await Streams.WriteAsync(new MemoryStream(Content(10)), Ct);
        Time.Advance(TimeSpan.FromDays(3));

        Assert.True(await Streams.TouchAsync(stored, Ct));

        Assert.Equal(Time.GetUtcNow().UtcDateTime, File.GetLastWriteTimeUtc(Path.Combine(_folder, "sha256", stored.Sha256[..2], stored.Sha256)));
    }

    [Fact]
    public async Task OpenReadAsync_ContentFileMissing_ThrowsStreamNotFoundNamingThePath()
    {
        var stored = await Streams.WriteAsync(new MemoryStream(Content(10)), Ct);
        var path = Path.Combine(_folder, "sha256", stored.Sha256[..2], stored.Sha256);
        File.Delete(path);

        var error = await Assert.ThrowsAsync<StreamNotFoundException>(() => Streams.OpenReadAsync(stored, Ct));

        Assert.Contains(path, error.Message);
    }

    [Fact]
    public async Task WriteAsync_FolderMissing_ThrowsStoreUnavailableNamingIt()
    {
        var missing = Path.Combine(_folder, "not-mounted");
        var store = new FolderStreamStore(missing, Time);

        var error = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.WriteAsync(new MemoryStream(Content(10)), Ct));

        Assert.Contains(missing, error.Message);
        Assert.Contains("does not exist", error.Message);
        await Assert.ThrowsAsync<StoreUnavailableException>(() => store.OpenReadAsync(new StoredStream(new string('a', 64), 1), Ct));
    }

    [Fact]
    public async Task WriteAsync_FileInPlaceOfTheFolder_ThrowsStoreUnavailable()
    {
        var file = Path.Combine(_folder, "a-file");
        await File.WriteAllTextAsync(file, "not a folder");
        var store = new FolderStreamStore(file, Time);

        var error = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.WriteAsync(new MemoryStream(Content(10)), Ct));

        Assert.Contains(file, error.Message);
        Assert.Contains("is a file", error.Message);
    }

    [Fact]
    public async Task WriteAsync_TmpFolderIsAFile_ThrowsStoreUnavailableAndStoresNothing()
    {
        // What a folder that cannot be written looks like to a process that ignores permissions (root).
        await File.WriteAllTextAsync(Path.Combine(_folder, "tmp"), "in the way");
        var content = Content(10);

        var error = await Assert.ThrowsAsync<StoreUnavailableException>(() => Streams.WriteAsync(new MemoryStream(content), Ct));

        Assert.Contains(_folder, error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.False(Directory.Exists(Path.Combine(_folder, "sha256")));
    }

    private sealed class FailingStream : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => throw new IOException("the connection was reset");

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
