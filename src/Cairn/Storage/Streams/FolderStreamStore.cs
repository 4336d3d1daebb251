using System.Runtime.CompilerServices;

namespace Cairn.Storage;

/// <summary>
/// Stream content kept as files in a folder, which several nodes and processes may share (a network share, a mounted
/// volume): one file a content, <c>sha256/ab/abcdef…</c>, written to <c>tmp/</c> first and moved into place once
/// complete, so that no partial file is ever readable. A file's last-write time is when it was last written or touched.
/// </summary>
/// <remarks>
/// The folder must exist; its <c>sha256/</c> and <c>tmp/</c> subfolders are created as needed. A sweep moves a file aside
/// before it deletes it and puts it back when it was touched meanwhile, so that a write of the same content racing the
/// sweep never reports content that is then deleted.
/// </remarks>
public sealed class FolderStreamStore : IStreamStore
{
    // Errno values .NET reports as IOException.HResult on Unix, and the Windows HRESULTs for a full disk.
    private const int NoSpaceErrno = 28;
    private const int ReadOnlyFileSystemErrno = 30;
    private const int WindowsDiskFull = unchecked((int)0x80070070);
    private const int WindowsHandleDiskFull = unchecked((int)0x80070027);

    private readonly string _path;
    private readonly string _contents;
    private readonly string _temporary;
    private readonly TimeProvider _time;

    /// <summary>Keeps stream content in the folder at <paramref name="path"/>.</summary>
    /// <param name="path">The folder; it must exist when content is written or read.</param>
    /// <param name="time">The clock for last-write times. Default <see cref="TimeProvider.System"/>.</param>
    public FolderStreamStore(string path, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        _path = Path.GetFullPath(path);
        _contents = Path.Combine(_path, "sha256");
        _temporary = Path.Combine(_path, "tmp");
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The folder's full path.</summary>
    public string FolderPath => _path;

    /// <inheritdoc />
    public async Task<StoredStream> WriteAsync(Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        CheckFolder();
        var temporary = Path.Combine(_temporary, $"{Guid.NewGuid():N}.part");
        try
        {
            StoredStream stored;
            var file = Guarded("create a file in", () =>
            {
                Directory.CreateDirectory(_temporary);
                return new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.Asynchronous);
            });
            await using (file.ConfigureAwait(false))
            {
                // Only the writes are the folder's errors: an IOException of the source is the caller's, and stays one.
                stored = await StreamContent.CopyAsync(content, async (chunk, ct) =>
                {
                    try
                    {
                        await file.WriteAsync(chunk, ct).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                    {
                        throw Unavailable("write to", ex);
                    }
                }, cancellationToken).ConfigureAwait(false);
                Guarded("write to", () => file.Flush(flushToDisk: true));
            }

            var target = ContentPath(stored);
            Guarded("write to", () =>
            {
                File.SetLastWriteTimeUtc(temporary, _time.GetUtcNow().UtcDateTime);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                Publish(temporary, target);
            });
            return stored;
        }
        finally
        {
            TryDelete(temporary);
        }
    }

    /// <inheritdoc />
    public Task<Stream> OpenReadAsync(StoredStream stream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var path = ContentPath(stream);
        try
        {
            // FileShare.Delete: a reader never stops a sweep (the open file stays readable until closed).
            return Task.FromResult<Stream>(new FileStream(
                path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, bufferSize: 0, FileOptions.Asynchronous | FileOptions.SequentialScan));
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            CheckFolder();
            throw new StreamNotFoundException($"The stream folder holds no stream content {stream}: '{path}' does not exist.");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Unavailable("read from", ex);
        }
    }

    /// <inheritdoc />
    public Task<bool> TouchAsync(StoredStream stream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        CheckFolder();
        return Task.FromResult(Guarded("write to", () => Touch(ContentPath(stream))));
    }

    /// <summary>
    /// Lists the contents untouched since <paramref name="untouchedSince"/>; first deletes the partial files in
    /// <c>tmp/</c> last written before it (left by a process that died while writing), which no one can read.
    /// </summary>
    public async IAsyncEnumerable<StoredStream> ListUntouchedAsync(DateTimeOffset untouchedSince, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        CheckFolder();
        if (Directory.Exists(_temporary))
        {
            foreach (var part in new DirectoryInfo(_temporary).EnumerateFiles("*.part"))
            {
                if (part.LastWriteTimeUtc < untouchedSince.UtcDateTime)
                {
                    TryDelete(part.FullName);
                }
            }
        }

        if (!Directory.Exists(_contents))
        {
            yield break;
        }

        foreach (var prefix in Guarded("list", () => Directory.GetDirectories(_contents)))
        {
            foreach (var file in new DirectoryInfo(prefix).EnumerateFiles())
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (file.Name.Length == 64 && file.Name.StartsWith(Path.GetFileName(prefix), StringComparison.Ordinal)
                    && IsHex(file.Name) && file.LastWriteTimeUtc < untouchedSince.UtcDateTime)
                {
                    yield return new StoredStream(file.Name, file.Length);
                }
            }
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<bool> DeleteAsync(StoredStream stream, DateTimeOffset untouchedSince, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        CheckFolder();
        var target = ContentPath(stream);
        return Task.FromResult(Guarded("delete from", () =>
        {
            if (!File.Exists(target) || File.GetLastWriteTimeUtc(target) >= untouchedSince.UtcDateTime)
            {
                return false;
            }

            // Moved aside first: a writer that touches the file after this sees it gone and puts its own copy in place;
            // one that touched it before is seen in the time checked again below.
            Directory.CreateDirectory(_temporary);
            var aside = Path.Combine(_temporary, $"{Guid.NewGuid():N}.deleting");
            try
            {
                File.Move(target, aside);
            }
            catch (FileNotFoundException)
            {
                return false;
            }

            if (File.GetLastWriteTimeUtc(aside) >= untouchedSince.UtcDateTime)
            {
                Publish(aside, target);
                TryDelete(aside);
                return false;
            }

            File.Delete(aside);
            return true;
        }));
    }

    private string ContentPath(StoredStream stream) => Path.Combine(_contents, stream.Sha256[..2], stream.Sha256);

    // Moves a complete file into place. When the content is there already (written by another node meanwhile), touches
    // it instead; should that one vanish in a sweep before the touch, the move is tried again.
    private void Publish(string source, string target)
    {
        while (true)
        {
            try
            {
                File.Move(source, target, overwrite: false);
                return;
            }
            catch (IOException) when (File.Exists(target))
            {
                if (Touch(target))
                {
                    return;
                }
            }
        }
    }

    private bool Touch(string path)
    {
        try
        {
            File.SetLastWriteTimeUtc(path, _time.GetUtcNow().UtcDateTime);
            return true;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
    }

    private void CheckFolder()
    {
        if (!Directory.Exists(_path))
        {
            throw new StoreUnavailableException(File.Exists(_path)
                ? $"The stream folder '{_path}' is a file, not a folder."
                : $"The stream folder '{_path}' does not exist (create it, or check that its volume is mounted).");
        }
    }

    private T Guarded<T>(string doing, Func<T> action)
    {
        try
        {
            return action();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Unavailable(doing, ex);
        }
    }

    private void Guarded(string doing, Action action) => Guarded(doing, () =>
    {
        action();
        return true;
    });

    private StoreUnavailableException Unavailable(string doing, Exception ex)
    {
        if (!Directory.Exists(_path))
        {
            return new StoreUnavailableException($"The stream folder '{_path}' does not exist (create it, or check that its volume is mounted).", ex);
        }

        var problem = ex switch
        {
            IOException { HResult: NoSpaceErrno or WindowsDiskFull or WindowsHandleDiskFull } => "is full (no space left on its volume)",
            IOException { HResult: ReadOnlyFileSystemErrno } => "is read-only (its volume is mounted read-only)",
            UnauthorizedAccessException when doing == "read from" => "may not be read by this process (permissions)",
            UnauthorizedAccessException => "is read-only for this process (permissions)",
            _ => $"cannot be used: {ex.Message}",
        };
        return new StoreUnavailableException($"Cannot {doing} the stream folder '{_path}': it {problem}.", ex);
    }

    private static bool IsHex(string name)
    {
        foreach (var c in name)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                return false;
            }
        }

        return true;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A leftover in tmp/ is never read; a later sweep of the folder may remove it.
        }
    }
}
