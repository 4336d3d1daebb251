namespace Cairn.Cli;

/// <summary>An open store and the operator API over it; disposing it closes the store.</summary>
/// <param name="store">The opened store.</param>
/// <param name="sqlitePath">The SQLite file, for a SQLite store: its worker lock tells whether an engine lives on it.</param>
internal sealed class OperatorStore(RunStore store, string? sqlitePath) : IAsyncDisposable
{
    public RunOperator Operator { get; } = RunOperator.Create(store);

    /// <summary>The opened store, for what checks it directly (the health check of <c>cairn console</c>).</summary>
    public RunStore Store => store;

    /// <summary>
    /// Whether the running run's owner is alive. On SQLite the file's worker lock says it (held by the one engine the file
    /// can have, named in the lock file); elsewhere the owner's lease (<see cref="RunInfo.IsOwnerAlive"/>).
    /// </summary>
    public bool IsOwnerAlive(RunInfo run, DateTimeOffset now)
    {
        if (run.Status != RunStatus.Running || sqlitePath is null)
        {
            return run.IsOwnerAlive(now);
        }

        var lockPath = sqlitePath + ".lock";
        try
        {
            // Not writing, and not locking: an exclusive open fails while an engine holds the lock.
            using (new FileStream(lockPath, FileMode.Open, FileAccess.Read, FileShare.None))
            {
                return false;
            }
        }
        catch (FileNotFoundException)
        {
            return false;
        }
        catch (IOException)
        {
            using var reader = new StreamReader(new FileStream(lockPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
            return reader.ReadLine() == run.Owner;
        }
    }

    public ValueTask DisposeAsync() => store.DisposeAsync();
}
