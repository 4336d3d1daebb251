using System.Security.Cryptography;
using System.Text;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Storage;
using Cairn.Tests.Support;
using Xunit.Abstractions;

namespace Cairn.Tests.Streams;

/// <summary>Named streams in a run: put, saved with the next recovery point, opened by later stages and attempts.</summary>
public sealed class RunStreamsTests(ITestOutputHelper output) : EngineTest(output)
{
    private static readonly byte[] Download = RandomBytes(3 * 1024 * 1024 + 11, seed: 4);

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static async Task<byte[]> ReadAsync(Stream stream)
    {
        await using (stream)
        {
            var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            return copy.ToArray();
        }
    }

    private static StoredStream Expected(byte[] content) => new(Convert.ToHexStringLower(SHA256.HashData(content)), content.Length);

    [Fact]
    public async Task AStreamPutBeforeARecoveryPoint_IsOpenedByALaterAttempt_WithoutRunningThePutAgain()
    {
        var downloads = 0;
        var failures = 0;
        byte[]? read = null;
        var flow = Flow.Create<TestState>("imports")
            .Retry(p => p with { MaxRetries = 1, Interval = TimeSpan.FromSeconds(1) })
            .Stage("download", async (c, ct) =>
            {
                downloads++;
                await c.Streams.PutAsync("orders.csv", new MemoryStream(Download), ct);
            })
            .RecoveryPoint("downloaded", "download successful")
            .Stage("insert", async (c, ct) =>
            {
                read = await ReadAsync(await c.Streams.OpenAsync("orders.csv", ct));
                if (failures++ == 0)
                {
                    throw new InvalidOperationException("the database went away");
                }
            })
            .Build();
        var engine = CreateEngine(flow);

        var run = await engine.StartRunAsync(flow, new TestState());
        await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);
        var saved = (await Store.GetRecoveryDataAsync(run.Id, Ct)).Checkpoint!;
        AdvanceAndWake(engine, TimeSpan.FromSeconds(1));
        var outcome = await Within(engine.WaitForRunAsync(flow, run.Id));

        Assert.True(outcome.IsCompleted);
        Assert.Equal(1, downloads);
        Assert.Equal(2, failures);
        Assert.Equal(Download, read);
        Assert.Equal(Expected(Download), Assert.Single(saved.Streams, s => s.Key == "orders.csv").Value);
    }

    [Fact]
    public async Task AStorageFolder_HoldsTheStreams_AsFilesNamedByTheirHash()
    {
        var folder = Directory.CreateTempSubdirectory("cairn-streams-").FullName;
        try
        {
            byte[]? read = null;
            var flow = Flow.Create<TestState>("imports")
                .Stage("download", async (c, ct) => await c.Streams.PutAsync("orders.csv", new MemoryStream(Download), ct))
                .RecoveryPoint("downloaded")
                .Stage("insert", async (c, ct) => read = await ReadAsync(await c.Streams.OpenAsync("orders.csv", ct)))
                .Build();
            var engine = CreateEngine(flow, build: b => b.UseStorageFolder(folder));

            var outcome = await Within(engine.RunAsync(flow, new TestState()));

            Assert.True(outcome.IsCompleted);
            Assert.Equal(Download, read);
            var sha = Expected(Download).Sha256;
            Assert.Equal(Download, await File.ReadAllBytesAsync(Path.Combine(folder, "sha256", sha[..2], sha)));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task UseStorageFolder_CreatesAMissingFolder_AndRefusesOneThatCannotBe()
    {
        var parent = Directory.CreateTempSubdirectory("cairn-streams-").FullName;
        try
        {
            var flow = Flow.Create<TestState>("imports")
                .Stage("download", async (c, ct) => await c.Streams.PutAsync("orders.csv", new MemoryStream(Download), ct))
                .RecoveryPoint("downloaded")
                .Stage("insert", (_, _) => Task.CompletedTask)
                .Build();
            var folder = Path.Combine(parent, "partner-streams");
            var engine = CreateEngine(flow, build: b => b.UseStorageFolder(folder));

            Assert.True((await Within(engine.RunAsync(flow, new TestState()))).IsCompleted);
            Assert.Single(Directory.GetFiles(Path.Combine(folder, "sha256"), "*", SearchOption.AllDirectories));

            var blocked = Path.Combine(parent, "a-file");
            await File.WriteAllTextAsync(blocked, "not a folder");
            var error = Assert.Throws<InvalidOperationException>(() =>
                CairnEngine.CreateBuilder().UseStore(new InMemoryRunStore(Time)).UseStorageFolder(Path.Combine(blocked, "streams")).AddFlow(flow).Build());
            Assert.StartsWith($"The storage folder '{Path.Combine(blocked, "streams")}' does not exist and cannot be created: ", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(parent, recursive: true);
        }
    }

    [Fact]
    public async Task AStreamWrittenThroughCreate_BecomesTheNamedStreamWhenDisposed()
    {
        string? text = null;
        StoredStream? found = null;
        var flow = Flow.Create<TestState>("reports")
            .Stage("write", async (c, ct) =>
            {
                await using var stream = c.Streams.Create("report.txt", ct);
                for (var line = 0; line < 10_000; line++)
                {
                    await stream.WriteAsync(Encoding.UTF8.GetBytes($"line {line}\n"), ct);
                }
            })
            .RecoveryPoint("written")
            .Stage("read", async (c, ct) =>
            {
                found = c.Streams.Find("report.txt");
                text = Encoding.UTF8.GetString(await ReadAsync(await c.Streams.OpenAsync("report.txt", ct)));
            })
            .Build();
        var engine = CreateEngine(flow);

        var outcome = await Within(engine.RunAsync(flow, new TestState()));

        Assert.True(outcome.IsCompleted);
        var expected = string.Concat(Enumerable.Range(0, 10_000).Select(l => $"line {l}\n"));
        Assert.Equal(expected, text);
        Assert.Equal(Expected(Encoding.UTF8.GetBytes(expected)), found);
    }

    [Fact]
    public async Task AStageThatFailsAfterAPut_KeepsNoStream_AndItsRetryPutsItAgain()
    {
        var tries = 0;
        var seen = new List<bool>();
        var flow = Flow.Create<TestState>("imports")
            .Retry(p => p with { MaxRetries = 1, Interval = TimeSpan.FromSeconds(1) })
            .Stage("start", (c, _) => Task.CompletedTask)
            .RecoveryPoint("started")
            .Stage("download", async (c, ct) =>
            {
                seen.Add(c.Streams.Contains("orders.csv"));
                await c.Streams.PutAsync("orders.csv", new MemoryStream(Download), ct);
                if (++tries == 1)
                {
                    throw new IOException("the connection was reset");
                }
            })
            .RecoveryPoint("downloaded")
            .Stage("done", (c, _) => Task.CompletedTask)
            .Build();
        var engine = CreateEngine(flow);

        var run = await engine.StartRunAsync(flow, new TestState());
        await WaitForStatusAsync(engine, run.Id, RunStatus.WaitingForRetry);
        var afterFailure = (await Store.GetRecoveryDataAsync(run.Id, Ct)).Checkpoint!;
        AdvanceAndWake(engine, TimeSpan.FromSeconds(1));
        await Within(engine.WaitForRunAsync(flow, run.Id));

        Assert.Empty(afterFailure.Streams);
        Assert.Equal([false, false], seen);
        Assert.Equal(2, tries);
    }

    [Fact]
    public async Task OpeningAStreamTheRunDoesNotHave_NamesTheOnesItHas()
    {
        var flow = Flow.Create<TestState>("imports")
            .Retry(RetryPolicy.None)
            .Stage("download", async (c, ct) => await c.Streams.PutAsync("orders.csv", new MemoryStream([1, 2, 3]), ct))
            .RecoveryPoint("downloaded")
            .Stage("insert", async (c, ct) => await c.Streams.OpenAsync("order.csv", ct))
            .Build();

        var outcome = await RunToFailureAsync(flow, new TestState());

        Assert.Contains("StreamNotFoundException: Stage 'insert' of run", outcome.Error);
        Assert.Contains("opened stream 'order.csv', which the run does not have; it has 'orders.csv'.", outcome.Error);
    }

    [Fact]
    public async Task DamagedContent_FailsTheStageThatReadsIt_NamingTheStreamAndItsRecoveryPoint()
    {
        var streams = new DamagingStreamStore(Store);
        var flow = Flow.Create<TestState>("imports")
            .Retry(RetryPolicy.None)
            .Stage("download", async (c, ct) => await c.Streams.PutAsync("orders.csv", new MemoryStream(Download), ct))
            .RecoveryPoint("downloaded")
            .Stage("insert", async (c, ct) =>
            {
                streams.Damage = true;
                await ReadAsync(await c.Streams.OpenAsync("orders.csv", ct));
            })
            .Build();
        var engine = CreateEngine(flow, build: b => b.UseStreamStore(streams));

        var run = await engine.StartRunAsync(flow, new TestState());
        var failed = await WaitForStatusAsync(engine, run.Id, RunStatus.Failed);

        Assert.Contains($"StreamCorruptedException: Stream 'orders.csv' of run {run.Id} ({Expected(Download)}, saved at recovery point 'downloaded') is corrupt: its content's SHA-256 is", failed.LastError);
        Assert.Equal(0, failed.RetriesUsed);
    }

    [Fact]
    public async Task TruncatedContent_SaysHowMuchIsThere()
    {
        var streams = new DamagingStreamStore(Store) { Truncate = true };
        var flow = Flow.Create<TestState>("imports")
            .Retry(RetryPolicy.None)
            .Stage("download", async (c, ct) => await c.Streams.PutAsync("orders.csv", new MemoryStream(Download), ct))
            .RecoveryPoint("downloaded")
            .Stage("insert", async (c, ct) => await ReadAsync(await c.Streams.OpenAsync("orders.csv", ct)))
            .Build();

        var outcome = await RunToFailureAsync(flow, new TestState(), b => b.UseStreamStore(streams));

        Assert.Contains($"is truncated: {Download.Length - 1:N0} of its {Download.Length:N0} bytes are stored", outcome.Error);
    }

    [Fact]
    public async Task AParallelBranch_OpensTheRunsStreams_ButCannotPutOne()
    {
        var lengths = new List<long>();
        var flow = Flow.Create<TestState>("fan")
            .Retry(RetryPolicy.None)
            .Stage("download", async (c, ct) => await c.Streams.PutAsync("orders.csv", new MemoryStream(Download), ct))
            .RecoveryPoint("downloaded")
            .Parallel<TestState>(
                "split",
                p => p
                    .Branch("reader", s => new TestState(), b => b.Stage("read", async (c, ct) =>
                    {
                        var bytes = await ReadAsync(await c.Streams.OpenAsync("orders.csv", ct));
                        lock (lengths)
                        {
                            lengths.Add(bytes.Length);
                        }
                    }))
                    .Branch("writer", s => new TestState(), b => b.Stage("write", async (c, ct) => await c.Streams.PutAsync("part", new MemoryStream([1]), ct))),
                (state, slices) => { },
                ParallelFailure.FinishOthers)
            .Build();

        var outcome = await RunToFailureAsync(flow, new TestState());

        Assert.Equal([Download.Length], lengths);
        Assert.Contains("Stage 'write' cannot change stream 'part': it runs in branch 'writer' of parallel 'split'", outcome.Error);
    }

    [Fact]
    public async Task ARerunFromAnEarlierPoint_SeesTheStreamsAsTheyWereThere()
    {
        var seen = new List<string>();
        var flow = Flow.Create<TestState>("versions")
            .Retry(RetryPolicy.None)
            .Stage("first", async (c, ct) => await c.Streams.PutAsync("data", new MemoryStream("v1"u8.ToArray()), ct))
            .RecoveryPoint("v1")
            .Stage("second", async (c, ct) => await c.Streams.PutAsync("data", new MemoryStream("v2"u8.ToArray()), ct))
            .RecoveryPoint("v2")
            .Stage("check", async (c, ct) =>
            {
                seen.Add(Encoding.UTF8.GetString(await ReadAsync(await c.Streams.OpenAsync("data", ct))));
                if (seen.Count == 1)
                {
                    throw new InvalidOperationException("first look");
                }
            })
            .Build();
        var engine = CreateEngine(flow, o => o.CheckpointsToKeep = 3);

        var run = await engine.StartRunAsync(flow, new TestState());
        await WaitForStatusAsync(engine, run.Id, RunStatus.Failed);
        await engine.Operator.RerunAsync(run.Id, new RerunOptions { RecoveryPoint = "v1" });
        await Within(engine.WaitForRunAsync(flow, run.Id));

        Assert.Equal(["v2", "v2"], seen); // From v1 the second stage runs again and puts v2 again.
        Assert.Equal(2, (await Store.GetEventsAsync(run.Id, Ct)).Count(e => e.Kind == RunEventKind.RecoveryPointPassed && e.RecoveryPoint == "v2"));
    }

    [Fact]
    public async Task TheSweep_DeletesContentOfFinishedRunsOnceUntouchedLongEnough_AndKeepsWhatCheckpointsReferTo()
    {
        var gate = NewGate();
        var reached = NewGate();
        var kept = RandomBytes(1000, seed: 8);
        var flow = Flow.Create<TestState>("imports")
            .Stage("download", async (c, ct) => await c.Streams.PutAsync(c.State.Value == 1 ? "kept" : "done", new MemoryStream(c.State.Value == 1 ? kept : Download), ct))
            .RecoveryPoint("downloaded")
            .Stage("wait", async (c, ct) =>
            {
                if (c.State.Value == 1)
                {
                    reached.TrySetResult();
                    await gate.Task.WaitAsync(ct);
                }
            })
            .Build();
        var engine = CreateEngine(flow);
        await Within(engine.RunAsync(flow, new TestState { Value = 0 }));
        var waiting = await engine.StartRunAsync(flow, new TestState { Value = 1 });
        await Within(reached.Task); // The second run is past its download, holding its stream in a checkpoint.
        Assert.NotEqual(RunStatus.Completed, (await GetRunAsync(waiting.Id)).Status);

        var early = await engine.SweepStreamsAsync();
        Time.Advance(TimeSpan.FromHours(25));
        var late = await engine.SweepStreamsAsync();

        Assert.Equal((0, 1), (early, late));
        await Assert.ThrowsAsync<StreamNotFoundException>(() => Store.OpenReadAsync(Expected(Download), Ct));
        Assert.Equal(kept, await ReadAsync(await Store.OpenReadAsync(Expected(kept), Ct)));
        Assert.Contains(Logs.GetSnapshot(), r => r.Id.Id == Cairn.Diagnostics.CairnEventId.StreamsSwept);
        gate.SetResult();
    }

    [Fact]
    public async Task TwoRunsPuttingTheSameContent_ShareOneCopy()
    {
        var flow = Flow.Create<TestState>("imports")
            .Stage("download", async (c, ct) => await c.Streams.PutAsync("orders.csv", new MemoryStream(Download), ct))
            .RecoveryPoint("downloaded")
            .Stage("fail", (c, _) => throw new InvalidOperationException("stop here"))
            .Retry(RetryPolicy.None)
            .Build();
        var engine = CreateEngine(flow);

        await Within(engine.RunAsync(flow, new TestState(), "a"));
        await Within(engine.RunAsync(flow, new TestState(), "b"));
        Time.Advance(TimeSpan.FromDays(2));

        var stored = new List<StoredStream>();
        await foreach (var s in Store.ListUntouchedAsync(Time.GetUtcNow(), Ct))
        {
            stored.Add(s);
        }

        Assert.Equal([Expected(Download)], stored);
    }

    /// <summary>A stream store over another that, when told, hands out content with one byte flipped or the last one missing.</summary>
    private sealed class DamagingStreamStore(IStreamStore inner) : IStreamStore
    {
        public volatile bool Damage;

        public bool Truncate { get; init; }

        public Task<StoredStream> WriteAsync(Stream content, CancellationToken cancellationToken) => inner.WriteAsync(content, cancellationToken);

        public async Task<Stream> OpenReadAsync(StoredStream stream, CancellationToken cancellationToken)
        {
            var bytes = await ReadAsync(await inner.OpenReadAsync(stream, cancellationToken));
            if (Damage)
            {
                bytes[bytes.Length / 2] ^= 0x20;
            }

            return new MemoryStream(Truncate ? bytes[..^1] : bytes);
        }

        public Task<bool> TouchAsync(StoredStream stream, CancellationToken cancellationToken) => inner.TouchAsync(stream, cancellationToken);

        public IAsyncEnumerable<StoredStream> ListUntouchedAsync(DateTimeOffset untouchedSince, CancellationToken cancellationToken) =>
            inner.ListUntouchedAsync(untouchedSince, cancellationToken);

        public Task<bool> DeleteAsync(StoredStream stream, DateTimeOffset untouchedSince, CancellationToken cancellationToken) =>
            inner.DeleteAsync(stream, untouchedSince, cancellationToken);
    }
}
