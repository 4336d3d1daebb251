using System.Text;
using Microsoft.Extensions.Logging;

namespace Cairn.Sqlite;

public sealed partial class SqliteRunStore
{
    /// <inheritdoc />
    /// <remarks>The attachment holds the file's worker lock (<see cref="AcquireWorkerLockAsync"/>); the store has no wake-ups.</remarks>
    public override async ValueTask<StoreAttachment> AttachAsync(string owner, Action wakeUp, CancellationToken cancellationToken) =>
        new(await AcquireWorkerLockAsync(owner, cancellationToken).ConfigureAwait(false), wakeUps: null);

    /// <summary>
    /// Takes the file's worker lock, <c>{Path}.lock</c>: one engine per database file. The lock is an exclusive open of
    /// the lock file, which the operating system releases when the process ends, even when it is killed.
    /// </summary>
    /// <param name="owner">The engine node's name, written into the lock file with the process ID.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The lock; dispose it to release the lock.</returns>
    /// <exception cref="StoreUnavailableException">Another engine holds the lock, or the lock file cannot be opened.</exception>
    public ValueTask<IAsyncDisposable?> AcquireWorkerLockAsync(string owner, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        cancellationToken.ThrowIfCancellationRequested();
        var lockPath = _path + ".lock";
        FileStream stream;
        try
        {
            // FileShare.None takes an exclusive advisory lock (flock) on Unix and a share lock on Windows; both conflict
            // with any other open of the file for the lock, in this process or another.
            stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex) when (ex is not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException))
        {
            Log.Sqlite.WorkerLockHeld(_logger, lockPath);
            throw new StoreUnavailableException(
                $"Another Cairn engine is already running on '{_path}' (lock file '{lockPath}' is held). Stop it first, or use the PostgreSQL store to run several engines.",
                ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StoreUnavailableException($"The lock file '{lockPath}' of the SQLite database '{_path}' cannot be opened: {ex.Message}", ex);
        }

        try
        {
            // For a person who wonders who holds the lock; nothing reads it back.
            stream.SetLength(0);
            stream.Write(Encoding.UTF8.GetBytes($"{owner}\npid {Environment.ProcessId}\n"));
            stream.Flush();
        }
        catch
        {
            stream.Dispose();
            throw;
        }

        Log.Sqlite.WorkerLockAcquired(_logger, lockPath, owner);
        return ValueTask.FromResult<IAsyncDisposable?>(new WorkerLock(stream, lockPath, owner, _logger));
    }

    private sealed class WorkerLock(FileStream stream, string lockPath, string owner, ILogger logger) : IAsyncDisposable
    {
        private int _released;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0)
            {
                return;
            }

            // The file stays: deleting it would race with another process opening it to take the lock.
            await stream.DisposeAsync().ConfigureAwait(false);
            Log.Sqlite.WorkerLockReleased(logger, lockPath, owner);
        }
    }
}
