namespace Cairn.Sqlite;

/// <summary>How hard the SQLite store works to keep a commit through a power loss.</summary>
public enum SqliteDurability
{
    /// <summary>
    /// <c>synchronous=FULL</c>: every commit is flushed to disk before it returns, so a committed checkpoint survives a
    /// power loss or an operating-system crash. The default.
    /// </summary>
    Full = 0,

    /// <summary>
    /// <c>synchronous=NORMAL</c> in WAL mode: faster commits; a power loss or an operating-system crash may lose the last
    /// commits (a run then resumes from an earlier recovery point), but never corrupts the database. A crash of the
    /// process alone loses nothing.
    /// </summary>
    Normal = 1,
}
