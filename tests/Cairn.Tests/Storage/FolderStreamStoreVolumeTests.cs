using System.Diagnostics;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Storage;
using Cairn.Tests.Support;
using Xunit.Abstractions;

namespace Cairn.Tests.Storage;

/// <summary>
/// A storage folder on a volume that fills up or turns read-only: a real 1 MiB tmpfs mounted for the test (the tests run
/// as root, as CI does). The write fails with one line naming the folder and the reason; what was stored stays readable.
/// </summary>
public sealed class FolderStreamStoreVolumeTests(ITestOutputHelper output) : EngineTest(output), IDisposable
{
    private readonly string _folder = Mount();

    private static string Mount()
    {
        var folder = Directory.CreateTempSubdirectory("cairn-volume-").FullName;
        Run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", folder);
        return folder;
    }

    private static void Run(string file, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardError = true })!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed ({process.ExitCode}): {error} — these tests mount a tmpfs and need root.");
        }
    }

    public void Dispose()
    {
        Run("umount", _folder);
        Directory.Delete(_folder);
    }

    private static byte[] Content(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static async Task<byte[]> ReadAllAsync(FolderStreamStore store, StoredStream stored)
    {
        await using var stream = await store.OpenReadAsync(stored, Ct);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, Ct);
        return copy.ToArray();
    }

    [Fact]
    public async Task WriteAsync_VolumeFull_ThrowsStoreUnavailableSayingSo_AndKeepsWhatWasStored()
    {
        var store = new FolderStreamStore(_folder);
        var small = Content(300_000, seed: 1);
        var kept = await store.WriteAsync(new MemoryStream(small), Ct);

        var error = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.WriteAsync(new MemoryStream(Content(2_000_000, seed: 2)), Ct));

        Assert.Equal($"Cannot write to the stream folder '{_folder}': it is full (no space left on its volume).", error.Message);
        Assert.Equal(small, await ReadAllAsync(store, kept));
        Assert.Empty(Directory.GetFiles(Path.Combine(_folder, "tmp")));
    }

    [Fact]
    public async Task WriteAsync_VolumeReadOnly_ThrowsStoreUnavailableSayingSo_AndKeepsWhatWasStored()
    {
        var store = new FolderStreamStore(_folder);
        var small = Content(100_000, seed: 3);
        var kept = await store.WriteAsync(new MemoryStream(small), Ct);
        Run("mount", "-o", "remount,ro", _folder);

        var error = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.WriteAsync(new MemoryStream(Content(1000, seed: 4)), Ct));

        Assert.Contains($"the stream folder '{_folder}': it is read-only (its volume is mounted read-only)", error.Message, StringComparison.Ordinal);
        Assert.Equal(small, await ReadAllAsync(store, kept));
    }

    [Fact]
    public async Task ARunWhoseStreamDoesNotFit_WaitsWithTheFoldersLine_KeepingItsCheckpoint_AndCompletesOnceThereIsRoom()
    {
        var flow = Flow.Create<TestState>("partner-import")
            .Retry(RetryPolicy.None)
            .Stage("prepare", (c, _) =>
            {
                c.State.Value = 42;
                return Task.CompletedTask;
            })
            .RecoveryPoint("prepared", "ready to download")
            .Stage("download", async (c, ct) => await c.Streams.PutAsync("orders.csv", new MemoryStream(Content(3_000_000, seed: 5)), ct))
            .RecoveryPoint("downloaded", "download successful")
            .Stage("insert", (_, _) => Task.CompletedTask)
            .Build();
        var engine = CreateEngine(flow, build: b => b.UseStorageFolder(_folder));

        var run = await engine.StartRunAsync(flow, new TestState());
        var waiting = await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);

        // A full folder is the store being unavailable: the run waits for it without using up a retry.
        Assert.Contains($"StoreUnavailableException: Cannot write to the stream folder '{_folder}': it is full (no space left on its volume).", waiting.LastError, StringComparison.Ordinal);
        Assert.Equal(0, waiting.RetriesUsed);
        var checkpoint = (await Store.GetRecoveryDataAsync(run.Id, Ct)).Checkpoint!;
        Assert.Equal(("prepared", "ready to download"), (checkpoint.RecoveryPoint, checkpoint.StatusMessage));
        Assert.Empty(Directory.GetFiles(Path.Combine(_folder, "tmp")));

        Run("mount", "-o", "remount,size=16m", _folder);
        AdvanceAndWake(engine, TimeSpan.FromMinutes(1));
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(42, outcome.Result!.Value);
    }
}
