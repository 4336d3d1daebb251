using System.Security.Cryptography;
using System.Text;
using Cairn.Flows;
using Cairn.Serialization.Protection;
using Cairn.Sqlite;
using Microsoft.Data.Sqlite;

namespace Cairn.Sqlite.Tests.Protection;

/// <summary>
/// A run on a real SQLite file with a storage folder: with encryption on, a canary put in its input, state, result and a
/// stream is nowhere in the database, its -wal or the folder's files, as UTF-8 or UTF-16; with it off, it is found there.
/// </summary>
public sealed class EncryptionAtRestTests : IDisposable
{
    private const string Canary = "CANARY-7f3a9c-do-not-store-in-clear";
    private readonly TemporaryDatabase _database = new();
    private readonly string _folder = Directory.CreateTempSubdirectory("cairn-protect-folder-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _database.Delete();
        Directory.Delete(_folder, recursive: true);
    }

    private static Flow<List<string>> CanaryFlow(bool spill = false) =>
        Flow.Create<List<string>>("canary")
            .Stage("put", async (context, ct) =>
            {
                context.State.Add($"state {Canary}");
                if (spill)
                {
                    // Past CairnOptions.StateSpillThreshold (1 MiB): the recovery point writes the state to the stream store.
                    context.State.Add(new string('x', 1_200_000) + Canary);
                }

                var csv = new StringBuilder("order_id,note\n");
                for (var i = 0; csv.Length < (5 * 1024 * 1024 / 2) + 100; i++)
                {
                    csv.Append(i).Append(",\"").Append(i % 1000 == 0 ? Canary : "an ordinary note").Append("\"\n");
                }

                await context.Streams.PutAsync("orders.csv", new MemoryStream(Encoding.UTF8.GetBytes(csv.ToString())), ct);
            })
            .RecoveryPoint("downloaded")
            .Stage("read", async (context, ct) =>
            {
                await using var stream = await context.Streams.OpenAsync("orders.csv", ct);
                using var reader = new StreamReader(stream);
                var text = await reader.ReadToEndAsync(ct);
                context.State.Add($"read {text.Split(Canary).Length - 1} canaries");
            })
            .Build();

    [Theory]
    [InlineData(StateCompression.None)]
    [InlineData(StateCompression.Brotli)]
    public async Task Run_WithEncryption_LeavesTheCanaryInNoFile(StateCompression compression)
    {
        var state = await RunAsync(encrypt: true, compression);

        Assert.Equal([$"input {Canary}", $"state {Canary}", "read 106 canaries"], state);
        Assert.Empty(FilesHolding(DatabaseFiles()));
        Assert.Empty(FilesHolding(FolderFiles()));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Run_WithASpilledState_LeavesTheCanaryInNoFileOnlyWithEncryption(bool encrypt)
    {
        var state = await RunAsync(encrypt, StateCompression.None, spill: true);

        Assert.Equal(4, state.Count);
        Assert.Equal(!encrypt, FilesHolding(DatabaseFiles()).Count > 0 || FilesHolding(FolderFiles()).Count > 0);
        Assert.Equal(!encrypt, FilesHolding(FolderFiles()).Count > 1);
    }

    [Fact]
    public async Task Run_WithoutEncryption_LeavesTheCanaryInTheDatabaseAndTheFolder()
    {
        var state = await RunAsync(encrypt: false, StateCompression.None);

        Assert.Equal([$"input {Canary}", $"state {Canary}", "read 106 canaries"], state);
        Assert.NotEmpty(FilesHolding(DatabaseFiles()));
        Assert.NotEmpty(FilesHolding(FolderFiles()));
    }

    private async Task<List<string>> RunAsync(bool encrypt, StateCompression compression, bool spill = false)
    {
        var flow = CanaryFlow(spill);
        var builder = CairnEngine.CreateBuilder().UseSqlite(_database.Path).UseStorageFolder(_folder).AddFlow(flow);
        builder.Options.StateCompression = compression;
        if (encrypt)
        {
            builder.UseEncryption(new CheckpointKeyRing(new CheckpointKey("2026-12", RandomNumberGenerator.GetBytes(32))));
        }

        await using var engine = builder.Build();
        var outcome = await engine.RunAsync(flow, [$"input {Canary}"]).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(outcome.IsCompleted, outcome.Error);
        return outcome.Result!;
    }

    private IEnumerable<string> DatabaseFiles() => new[] { "", "-wal" }.Select(suffix => _database.Path + suffix).Where(File.Exists);

    private IEnumerable<string> FolderFiles() => Directory.EnumerateFiles(_folder, "*", SearchOption.AllDirectories);

    private static List<string> FilesHolding(IEnumerable<string> files)
    {
        byte[][] needles = [Encoding.UTF8.GetBytes(Canary), Encoding.Unicode.GetBytes(Canary), Encoding.BigEndianUnicode.GetBytes(Canary)];
        return [.. files.ToList().Where(file =>
        {
            var bytes = File.ReadAllBytes(file);
            return needles.Any(needle => bytes.AsSpan().IndexOf(needle) >= 0);
        })];
    }
}
