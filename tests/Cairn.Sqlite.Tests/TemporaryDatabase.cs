namespace Cairn.Sqlite.Tests;

/// <summary>A database path in a temporary folder; <see cref="Delete"/> removes it with its -wal, -shm and .lock files.</summary>
public sealed class TemporaryDatabase
{
    public TemporaryDatabase()
    {
        var folder = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "cairn-sqlite-tests");
        Directory.CreateDirectory(folder);
        Path = System.IO.Path.Combine(folder, $"{Guid.NewGuid():N}.db");
    }

    public string Path { get; }

    public void Delete()
    {
        foreach (var suffix in new[] { "", "-wal", "-shm", "-journal", ".lock" })
        {
            File.Delete(Path + suffix);
        }
    }
}
