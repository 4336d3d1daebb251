using System.Diagnostics;

namespace Cairn.CrashTest.Chaos;

/// <summary>
/// The nodes' shared storage folder (<c>UseStorageFolder</c>), where <c>chaos-batch</c> puts its streams. As root it is a
/// small tmpfs of its own, which the soak can fill to the last byte and free again; otherwise a plain folder that
/// cannot be filled without filling the machine's disk, and the fault is left out with a note.
/// </summary>
internal sealed class StorageFolder : IDisposable
{
    private const string Size = "48m";
    private readonly bool _mounted;

    private StorageFolder(string path, bool mounted, string? note)
    {
        Path = path;
        _mounted = mounted;
        Note = note;
    }

    public string Path { get; }

    public bool CanFill => _mounted;

    /// <summary>Why the folder cannot be filled, when it cannot.</summary>
    public string? Note { get; }

    private string Filler => System.IO.Path.Combine(Path, "chaos-filler");

    public static StorageFolder Create(string path)
    {
        Directory.CreateDirectory(path);
        if (Environment.UserName != "root")
        {
            return new StorageFolder(path, mounted: false, $"the storage-folder fault is left out: filling a folder needs a tmpfs of its own, which only root can mount (running as {Environment.UserName})");
        }

        var (exitCode, output) = Run("mount", "-t", "tmpfs", "-o", $"size={Size},mode=0777", "tmpfs", path);
        return exitCode == 0
            ? new StorageFolder(path, mounted: true, null)
            : new StorageFolder(path, mounted: false, $"the storage-folder fault is left out: mounting a tmpfs at {path} failed ({exitCode}: {output.Trim()})");
    }

    /// <summary>Writes a file until the folder has no byte left; returns how much it wrote.</summary>
    public long Fill()
    {
        long written = 0;
        using var filler = new FileStream(Filler, FileMode.Create, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
        foreach (var chunk in new[] { 1 << 20, 1 << 12 })
        {
            var block = new byte[chunk];
            try
            {
                while (true)
                {
                    filler.Write(block);
                    written += chunk;
                }
            }
            catch (IOException)
            {
                // No space left on the device: go on with smaller blocks, then stop.
            }
        }

        return written;
    }

    public void Free() => File.Delete(Filler);

    public void Dispose()
    {
        if (_mounted)
        {
            // Lazily: a file some process still holds open does not keep the mount.
            Run("umount", "-l", Path);
        }
    }

    private static (int ExitCode, string Output) Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }
}
