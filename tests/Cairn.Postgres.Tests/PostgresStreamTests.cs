using System.Security.Cryptography;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Storage;

namespace Cairn.Postgres.Tests;

/// <summary>The PostgreSQL store's own stream behaviour: large content, several nodes, dead writers, stage transactions, an engine.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresStreamTests(PostgresCluster cluster) : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private readonly string _schema = cluster.NewSchema("pgstreams");
    private readonly FakeTimeProvider _time = new();
    private readonly List<PostgresRunStore> _stores = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        await cluster.DropSchemaAsync(_schema);
    }

    [Fact]
    public async Task WriteAsync_64MiBFromAForwardOnlySource_IsStoredIn64ChunksAndReadsBackTheSame()
    {
        const long Length = 64L * 1024 * 1024;
        var store = await OpenAsync();
        var source = new GeneratedStream(Length, seed: 64);

        var stored = await store.WriteAsync(source, Ct);

        Assert.Equal(new StoredStream(source.Sha256, Length), stored);
        Assert.Equal(64L, await CountAsync("stream_chunks"));
        Assert.Equal(0L, await CountAsync("stream_uploads"));
        await using var read = await store.OpenReadAsync(stored, Ct);
        Assert.Equal((Length, source.Sha256), await HashAsync(read));
    }

    [Fact]
    public async Task WriteAsync_SameContentFromTwoNodesAtOnce_AllSucceedAndOneCopyIsStored()
    {
        var nodes = new[] { await OpenAsync(ownPool: true), await OpenAsync(ownPool: true) };
        var content = new byte[3 * 1024 * 1024 + 5];
        new Random(12).NextBytes(content);

        var stored = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => nodes[i % 2].WriteAsync(new MemoryStream(content), Ct))));

        var expected = new StoredStream(Convert.ToHexStringLower(SHA256.HashData(content)), content.Length);
        Assert.All(stored, s => Assert.Equal(expected, s));
        Assert.Equal((1L, 4L, 0L), (await CountAsync("stream_contents"), await CountAsync("stream_chunks"), await CountAsync("stream_uploads")));
        foreach (var node in nodes)
        {
            await using var read = await node.OpenReadAsync(expected, Ct);
            Assert.Equal((expected.Length, expected.Sha256), await HashAsync(read));
        }
    }

    [Fact]
    public async Task WriteAsync_RacingASweepOfTheSameContent_NeverReportsContentThatIsThenGone()
    {
        var nodes = new[] { await OpenAsync(ownPool: true), await OpenAsync(ownPool: true) };
        var content = new byte[1024 * 1024 + 9];
        new Random(8).NextBytes(content);
        for (var round = 0; round < 20; round++)
        {
            var stored = await nodes[0].WriteAsync(new MemoryStream(content), Ct);
            _time.Advance(TimeSpan.FromHours(2));
            var cutoff = _time.GetUtcNow() - TimeSpan.FromHours(1);

            var sweep = Task.Run(() => nodes[1].DeleteAsync(stored, cutoff, Ct));
            var written = await Task.Run(() => nodes[0].WriteAsync(new MemoryStream(content), Ct));
            await sweep;

            // Read synchronously too: Stream.Read fetches its chunks with Npgsql's synchronous API.
            using var read = await nodes[round % 2].OpenReadAsync(written, Ct);
            var copy = new MemoryStream();
            read.CopyTo(copy);
            Assert.Equal(content, copy.ToArray());
        }

        Assert.Equal((1L, 2L, 0L), (await CountAsync("stream_contents"), await CountAsync("stream_chunks"), await CountAsync("stream_uploads")));
    }

    [Fact]
    public async Task WriteAsync_SourceFailsAfterTwoChunks_LeavesNoUploadAndNoChunkBehind()
    {
        var store = await OpenAsync();

        await Assert.ThrowsAsync<IOException>(() => store.WriteAsync(new FailingStream(failAt: 2 * 1024 * 1024 + 1), Ct));

        Assert.Equal((0L, 0L, 0L), (await CountAsync("stream_contents"), await CountAsync("stream_chunks"), await CountAsync("stream_uploads")));
    }

    [Fact]
    public async Task ListUntouchedAsync_MoreContentsThanAPage_ListsEachOnce()
    {
        var store = await OpenAsync();
        await cluster.ExecuteAsync(
            $"INSERT INTO \"{_schema}\".stream_contents (sha256, length, upload_id, touched_at) " +
            $"SELECT encode(sha256(i::text::bytea), 'hex'), i, gen_random_uuid(), '1999-01-01Z' FROM generate_series(1, {PostgresStreamSql.ListPageSize * 2 + 5}) i");

        var listed = await ListUntouchedAsync(store, _time.GetUtcNow());

        Assert.Equal(PostgresStreamSql.ListPageSize * 2 + 5, listed.Select(s => s.Sha256).Distinct().Count());
        Assert.Equal(listed.Count, listed.Select(s => s.Sha256).Distinct().Count());
    }

    [Fact]
    public async Task ListUntouchedAsync_UploadOfAWriterThatStopped_IsSweptOnceNothingWasWrittenForLong_AndTheWriteFails()
    {
        var store = await OpenAsync();
        var source = new StallingStream(stallAt: 2 * 1024 * 1024 + 100);
        var write = store.WriteAsync(source, Ct);
        await source.Stalled.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal((1L, 2L), (await CountAsync("stream_uploads"), await CountAsync("stream_chunks")));

        // Written to within the cutoff: kept.
        Assert.Empty(await ListUntouchedAsync(store, _time.GetUtcNow() - TimeSpan.FromHours(1)));
        Assert.Equal(1L, await CountAsync("stream_uploads"));

        _time.Advance(TimeSpan.FromHours(2));
        Assert.Empty(await ListUntouchedAsync(store, _time.GetUtcNow() - TimeSpan.FromHours(1)));
        Assert.Equal((0L, 0L), (await CountAsync("stream_uploads"), await CountAsync("stream_chunks")));

        source.Resume();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => write);
        Assert.Contains("swept as abandoned", error.Message, StringComparison.Ordinal);
        Assert.Equal((0L, 0L, 0L), (await CountAsync("stream_contents"), await CountAsync("stream_chunks"), await CountAsync("stream_uploads")));
    }

    [Fact]
    public async Task WriteAsync_ReadOnlyStore_ThrowsStoreUnavailableNamingTheDatabaseAndSchema()
    {
        await OpenAsync();
        await using var readOnly = new PostgresRunStore(new PostgresStoreOptions { ConnectionString = cluster.ConnectionString, Schema = _schema, ReadOnly = true });
        await readOnly.InitializeAsync(Ct);

        var error = await Assert.ThrowsAsync<StoreUnavailableException>(() => readOnly.WriteAsync(new MemoryStream([1, 2, 3]), Ct));

        Assert.StartsWith($"The PostgreSQL database 'postgres' on 127.0.0.1:{cluster.Server.Port}, schema '{_schema}', cannot keep stream content:", error.Message, StringComparison.Ordinal);
        Assert.Contains("read-only transaction", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public async Task StageTransactionCommit_KeepsTheCheckpointsStreams()
    {
        var store = await OpenAsync();
        await store.CreateRunAsync(new NewRun(RunId.New(), "imports", 1, "stage", new byte[] { 1 }, "c", "{}"), Ct);
        var claimed = Assert.Single(await store.ClaimDueRunsAsync(new ClaimRequest("node", ["imports"], 1, TimeSpan.FromMinutes(5)), Ct));
        var orders = new StoredStream(new string('c', 64), 42);

        await using (var transaction = await store.BeginStageTransactionAsync(claimed.Lease, Ct))
        {
            var checkpoint = new Checkpoint(1, FlowPath.Of(1), "downloaded", null, new byte[] { 7 }, "c")
            {
                Streams = new Dictionary<string, StoredStream> { ["orders.csv"] = orders },
            };
            await transaction.CommitAsync(checkpoint, 3, Ct);
        }

        var saved = (await store.GetRecoveryDataAsync(claimed.Run.Id, Ct)).Checkpoint!;
        Assert.Equal(orders, Assert.Single(saved.Streams, s => s.Key == "orders.csv").Value);
        Assert.Equal(new HashSet<string> { orders.Sha256 }, await store.GetReferencedStreamsAsync(Ct));
    }

    [Fact]
    public async Task SaveCheckpointAsync_StreamNamesWithAnyCharacters_AreKeptAsGiven()
    {
        var store = await OpenAsync();
        await store.CreateRunAsync(new NewRun(RunId.New(), "imports", 1, "names", new byte[] { 1 }, "c", "{}"), Ct);
        var claimed = Assert.Single(await store.ClaimDueRunsAsync(new ClaimRequest("node", ["imports"], 1, TimeSpan.FromMinutes(5)), Ct));
        var streams = new Dictionary<string, StoredStream>
        {
            ["nul\0char"] = new(new string('d', 64), 1),
            ["quote\" and \\ back"] = new(new string('e', 64), 2),
            ["ünïcode/📦 orders.csv"] = new(new string('f', 64), 3),
        };

        await store.SaveCheckpointAsync(claimed.Lease, new Checkpoint(1, FlowPath.Of(1), "downloaded", null, new byte[] { 7 }, "c") { Streams = streams }, 3, Ct);

        Assert.Equal(streams, (await store.GetRecoveryDataAsync(claimed.Run.Id, Ct)).Checkpoint!.Streams);
        Assert.Equal(streams.Values.Select(s => s.Sha256).ToHashSet(), await store.GetReferencedStreamsAsync(Ct));
    }

    [Fact]
    public async Task Engine_StreamPutBeforeARecoveryPoint_IsReadAfterTheEngineRestarts()
    {
        var download = new byte[2 * 1024 * 1024 + 3];
        new Random(5).NextBytes(download);
        var downloads = 0;
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        byte[]? read = null;
        var flow = Flow.Create<List<string>>("imports")
            .Stage("download", async (c, ct) =>
            {
                downloads++;
                await c.Streams.PutAsync("orders.csv", new MemoryStream(download), ct);
            })
            .RecoveryPoint("downloaded", "download successful")
            .Stage("insert", async (c, ct) =>
            {
                if (!c.Recovery.IsResumed)
                {
                    // The first engine stops while this stage runs: the run resumes from "downloaded" on the next one.
                    stopped.SetResult();
                    await Task.Delay(Timeout.Infinite, ct);
                }

                await using var stream = await c.Streams.OpenAsync("orders.csv", ct);
                var copy = new MemoryStream();
                await stream.CopyToAsync(copy, ct);
                read = copy.ToArray();
            })
            .Build();

        RunId runId;
        await using (var first = Engine(flow))
        {
            runId = (await first.StartRunAsync(flow, [])).Id;
            await stopped.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }

        await using var second = Engine(flow);
        await second.StartAsync();
        var outcome = await second.WaitForRunAsync(flow, runId).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(RunStatus.Completed, outcome.Status);
        Assert.Equal(1, downloads);
        Assert.Equal(download, read);
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(download));
        Assert.Equal(1L, await cluster.ScalarAsync<long>($"SELECT count(*) FROM \"{_schema}\".stream_contents WHERE sha256 = @sha256", ("sha256", sha256)));

        // The completed run keeps no checkpoint, so nothing refers to the content any more: a sweep deletes it.
        Assert.Equal(1, await second.SweepStreamsAsync(TimeSpan.Zero));
        Assert.Equal((0L, 0L), (await CountAsync("stream_contents"), await CountAsync("stream_chunks")));
    }

    private CairnEngine Engine(FlowDefinition flow) => CairnEngine.CreateBuilder()
        .UsePostgres(cluster.ConnectionString, options => options.Schema = _schema)
        .Configure(options =>
        {
            options.NodeName = "node-a";
            options.ShutdownTimeout = TimeSpan.Zero;
        })
        .AddFlow(flow)
        .Build();

    private async Task<PostgresRunStore> OpenAsync(bool ownPool = false)
    {
        var options = ownPool
            ? new PostgresStoreOptions { ConnectionString = cluster.ConnectionString }
            : new PostgresStoreOptions { DataSource = cluster.DataSource };
        options.Schema = _schema;
        options.TestClock = _time.GetUtcNow;
        var store = new PostgresRunStore(options);
        _stores.Add(store);
        await store.InitializeAsync(Ct);
        return store;
    }

    private Task<long> CountAsync(string table) => cluster.ScalarAsync<long>($"SELECT count(*) FROM \"{_schema}\".{table}");

    private static async Task<List<StoredStream>> ListUntouchedAsync(PostgresRunStore store, DateTimeOffset since)
    {
        var found = new List<StoredStream>();
        await foreach (var stream in store.ListUntouchedAsync(since, Ct))
        {
            found.Add(stream);
        }

        return found;
    }

    private static async Task<(long Length, string Sha256)> HashAsync(Stream stream)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[81_920];
        long length = 0;
        int n;
        while ((n = await stream.ReadAsync(buffer, Ct)) > 0)
        {
            hash.AppendData(buffer, 0, n);
            length += n;
        }

        return (length, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    /// <summary>Forward-only pseudo-random content, made as it is read and hashed on the way: never whole in memory.</summary>
    private sealed class GeneratedStream(long length, int seed) : ForwardOnlyStream
    {
        private readonly Random _random = new(seed);
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private long _position;

        public string Sha256 => Convert.ToHexStringLower(_hash.GetCurrentHash());

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(Math.Min(count, 300_000), length - _position);
            _random.NextBytes(buffer.AsSpan(offset, n));
            _hash.AppendData(buffer, offset, n);
            _position += n;
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            _hash.Dispose();
            base.Dispose(disposing);
        }
    }

    /// <summary>Zeros that stop coming at <c>stallAt</c> until resumed, as a download that hangs does; then it ends.</summary>
    private sealed class StallingStream(int stallAt) : ForwardOnlyStream
    {
        private readonly TaskCompletionSource _resume = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _position;

        public TaskCompletionSource Stalled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Resume() => _resume.SetResult();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position >= stallAt)
            {
                Stalled.TrySetResult();
                await _resume.Task.WaitAsync(cancellationToken);
                return 0;
            }

            var n = Math.Min(buffer.Length, stallAt - _position);
            buffer.Span[..n].Clear();
            _position += n;
            return n;
        }
    }

    /// <summary>Zeros until <c>failAt</c>, then the connection drops.</summary>
    private sealed class FailingStream(int failAt) : ForwardOnlyStream
    {
        private int _position;

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position >= failAt)
            {
                throw new IOException("the connection was reset");
            }

            var n = Math.Min(count, failAt - _position);
            buffer.AsSpan(offset, n).Clear();
            _position += n;
            return n;
        }
    }

    private abstract class ForwardOnlyStream : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
