using System.Security.Cryptography;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Storage;
using Cairn.Tests.Support;
using Xunit.Abstractions;

namespace Cairn.Tests.Runs;

/// <summary>
/// Stream content damaged in a storage folder (overwritten, truncated, deleted) fails the stage that opens it with an
/// error naming the run, the stream and the recovery point that saved it; the content is kept as found.
/// </summary>
public sealed class QuarantineStorageFolderTests(ITestOutputHelper output) : EngineTest(output), IDisposable
{
    private static readonly byte[] Download = RandomNumberGenerator.GetBytes(256 * 1024 + 3);
    private static readonly string Sha256 = Convert.ToHexStringLower(SHA256.HashData(Download));

    private readonly string _folder = Directory.CreateTempSubdirectory("cairn-quarantine-").FullName;

    private string ContentFile => Path.Combine(_folder, "sha256", Sha256[..2], Sha256);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task OpenStream_FileOverwrittenInFolder_FailsPermanentlyNamingRunStreamAndRecoveryPoint()
    {
        var (run, failed) = await RunWithDamageAsync(path =>
        {
            var bytes = File.ReadAllBytes(path);
            bytes[bytes.Length / 2] ^= 0x40;
            File.WriteAllBytes(path, bytes);
        });

        AssertFailedForGood(failed, $"StreamCorruptedException: {Named(run)} is corrupt: its content's SHA-256 is");
        Assert.Equal(Download.Length, new FileInfo(ContentFile).Length); // Kept as found.
    }

    [Fact]
    public async Task OpenStream_FileTruncatedInFolder_FailsPermanentlySayingHowMuchIsThere()
    {
        var (run, failed) = await RunWithDamageAsync(path =>
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Write);
            file.SetLength(1000);
        });

        AssertFailedForGood(failed, $"StreamCorruptedException: {Named(run)} is truncated: 1,000 of its {Download.Length:N0} bytes are stored.");
        Assert.Equal(1000, new FileInfo(ContentFile).Length);
    }

    [Fact]
    public async Task OpenStream_FileDeletedFromFolder_FailsNamingRunStreamRecoveryPointAndFile()
    {
        var (run, failed) = await RunWithDamageAsync(File.Delete, RetryPolicy.None);

        Assert.Equal(RunStatus.Failed, failed.Status);
        Assert.Contains($"StreamNotFoundException: {Named(run)} is missing from the stream store", failed.LastError, StringComparison.Ordinal);
        Assert.Contains(ContentFile, failed.LastError, StringComparison.Ordinal);
    }

    /// <summary>Puts a stream, saves it at 'downloaded', damages its file in the folder, then opens and reads it.</summary>
    private async Task<(RunId Run, RunRecord Failed)> RunWithDamageAsync(Action<string> damage, RetryPolicy? retry = null)
    {
        var flow = Flow.Create<TestState>("folder-quarantine")
            .Stage("download", async (c, ct) => await c.Streams.PutAsync("orders.csv", new MemoryStream(Download), ct))
            .RecoveryPoint("downloaded")
            .Stage("insert", async (c, ct) =>
            {
                damage(ContentFile);
                await using var stream = await c.Streams.OpenAsync("orders.csv", ct);
                await stream.CopyToAsync(Stream.Null, ct);
            })
            .Retry(retry ?? new RetryPolicy { MaxRetries = 3, Interval = TimeSpan.FromSeconds(1) })
            .Build();
        var engine = CreateEngine(flow, build: b => b.UseStorageFolder(_folder));

        var run = await engine.StartRunAsync(flow, new TestState());
        return (run.Id, await WaitForAsync(engine, run.Id, r => r.Status is RunStatus.Failed or RunStatus.WaitingForRetry, "failed"));
    }

    /// <summary>How the errors name the stream: the run, the content and the recovery point whose checkpoint holds it.</summary>
    private static string Named(RunId run) => $"Stream 'orders.csv' of run {run} (sha256:{Sha256} ({Download.Length:N0} bytes), saved at recovery point 'downloaded')";

    /// <summary>Failed without using a retry, shown as quarantined, for the reason given.</summary>
    private static void AssertFailedForGood(RunRecord failed, string reason)
    {
        Assert.Equal((RunStatus.Failed, 0), (failed.Status, failed.RetriesUsed));
        Assert.True(RunInfo.From(failed).IsQuarantined);
        Assert.Contains(reason, failed.LastError, StringComparison.Ordinal);
    }
}
