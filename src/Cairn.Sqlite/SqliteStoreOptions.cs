namespace Cairn.Sqlite;

/// <summary>Settings of a <see cref="SqliteRunStore"/>. Validated when the store is created.</summary>
public sealed class SqliteStoreOptions
{
    /// <summary>
    /// The database file's path, absolute or relative to the current directory. Required. The file is created when
    /// missing; its folder must exist. The store also uses <c>{Path}-wal</c>, <c>{Path}-shm</c> and, for the worker
    /// lock, <c>{Path}.lock</c>.
    /// </summary>
    public required string Path { get; set; }

    /// <summary>How hard commits work to survive a power loss. Default <see cref="SqliteDurability.Full"/>.</summary>
    public SqliteDurability Durability { get; set; } = SqliteDurability.Full;

    /// <summary>
    /// How long a write waits for another process's write (for example a <c>cairn</c> command while an engine runs) before
    /// it fails. Default 5 seconds; must be positive.
    /// </summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The most writes committed together in one transaction (group commit: one fsync for many runs' checkpoints).
    /// Default 128; 1 commits every write on its own.
    /// </summary>
    public int MaxGroupCommitSize { get; set; } = 128;

    /// <summary>
    /// Opens the file for reading only, for tools that look at runs without changing anything (<c>cairn runs list</c>):
    /// the file is neither created nor migrated, and <see cref="SqliteRunStore.InitializeAsync"/> refuses a file that is
    /// missing, is not a Cairn store, or has an older schema than this version of Cairn. Every write fails. An engine
    /// cannot use a read-only store. Default false.
    /// </summary>
    public bool ReadOnly { get; set; }

    /// <summary>The store's clock. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    internal void Validate()
    {
        const string ParamName = "options";
        if (string.IsNullOrWhiteSpace(Path))
        {
            throw new ArgumentException("SqliteStoreOptions.Path is required: set it to the database file's path, for example \"cairn.db\".", ParamName);
        }

        if (Path.Trim() == ":memory:" || Path.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException(
                $"SqliteStoreOptions.Path must be a plain file path, not '{Path}': in-memory and URI databases are not supported (use InMemoryRunStore for a store that keeps nothing).",
                ParamName);
        }

        try
        {
            _ = System.IO.Path.GetFullPath(Path);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new ArgumentException($"SqliteStoreOptions.Path '{Path}' is not a valid file path: {ex.Message}", ParamName, ex);
        }

        if (!Enum.IsDefined(Durability))
        {
            throw new ArgumentException($"SqliteStoreOptions.Durability has the undefined value {(int)Durability}; use Full or Normal.", ParamName);
        }

        if (BusyTimeout <= TimeSpan.Zero || BusyTimeout.TotalMilliseconds > int.MaxValue)
        {
            throw new ArgumentException($"SqliteStoreOptions.BusyTimeout must be positive and at most {TimeSpan.FromMilliseconds(int.MaxValue)}; it is {BusyTimeout}.", ParamName);
        }

        if (MaxGroupCommitSize < 1)
        {
            throw new ArgumentException($"SqliteStoreOptions.MaxGroupCommitSize must be 1 or more; it is {MaxGroupCommitSize}.", ParamName);
        }

        if (TimeProvider is null)
        {
            throw new ArgumentException("SqliteStoreOptions.TimeProvider must not be null; leave it at TimeProvider.System unless testing.", ParamName);
        }
    }
}
