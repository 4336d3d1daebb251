using System.CommandLine;
using Cairn.Sqlite;
using Cairn.Storage;

namespace Cairn.Cli;

/// <summary>The --store option every command takes, and opening the store it names.</summary>
internal static class StoreOption
{
    public const string DefaultPath = "./cairn.db";

    public static Option<string> Create() => new("--store", "-s")
    {
        Description = "The store: a SQLite file",
        DefaultValueFactory = _ => DefaultPath,
    };

    /// <summary>Opens an existing store; a missing file is an error rather than a new empty store.</summary>
    public static async Task<RunStore> OpenExistingAsync(string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            throw new IOException($"No store at '{Path.GetFullPath(path)}'. Run 'cairn demo' first, or pass --store PATH.");
        }

        return await OpenAsync(path, cancellationToken);
    }

    public static async Task<RunStore> OpenAsync(string path, CancellationToken cancellationToken)
    {
        var store = new SqliteRunStore(new SqliteStoreOptions { Path = path });
        try
        {
            await store.InitializeAsync(cancellationToken);
            return store;
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }
}
