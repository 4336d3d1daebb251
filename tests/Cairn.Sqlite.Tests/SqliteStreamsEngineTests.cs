using System.Security.Cryptography;
using Cairn.Flows;
using Cairn.Runs;
using Microsoft.Data.Sqlite;

namespace Cairn.Sqlite.Tests;

/// <summary>Named streams on the SQLite default: kept in the database file, and read back by another engine on it.</summary>
public sealed class SqliteStreamsEngineTests : IDisposable
{
    private static readonly byte[] Download = RandomBytes(5 * 1024 * 1024 + 3);
    private readonly TemporaryDatabase _database = new();
    private int _downloads;
    private byte[]? _read;

    private static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        new Random(12).NextBytes(bytes);
        return bytes;
    }

    public void Dispose() => _database.Delete();

    private Flow<State> ImportFlow() => Flow.Create<State>("partner-import")
        .Retry(RetryPolicy.None)
        .Stage("download", async (c, ct) =>
        {
            _downloads++;
            await c.Streams.PutAsync("orders.csv", new MemoryStream(Download), ct);
        })
        .RecoveryPoint("downloaded", "download successful")
        .Stage("insert", async (c, ct) =>
        {
            await using var stream = await c.Streams.OpenAsync("orders.csv", ct);
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy, ct);
            _read = copy.ToArray();
            if (c.State.FailInsert && c.Recovery.Attempt == 1)
            {
                throw new InvalidOperationException("the orders database went away");
            }
        })
        .Build();

    private CairnEngine Engine(Flow<State> flow) => CairnEngine.CreateBuilder()
        .UseSqlite(_database.Path)
        .AddFlow(flow)
        .Configure(o => o.PollInterval = TimeSpan.FromMilliseconds(50))
        .Build();

    [Fact]
    public async Task AStreamSavedAtARecoveryPoint_IsReadFromTheDatabaseByTheNextEngine_WithoutPuttingItAgain()
    {
        var flow = ImportFlow();
        RunId runId;
        await using (var first = Engine(flow))
        {
            await first.StartAsync();
            var failed = await first.RunAsync(flow, new State { FailInsert = true }, "partner-2026-12-03").WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(RunStatus.Failed, failed.Status);
            runId = failed.RunId;
        }

        SqliteConnection.ClearAllPools();
        await using (var second = Engine(flow))
        {
            await second.StartAsync();
            await second.RerunAsync(runId);
            var rerun = await second.WaitForRunAsync(flow, runId).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(rerun.Status == RunStatus.Completed, rerun.Error);
        }

        Assert.Equal(1, _downloads);
        Assert.Equal(SHA256.HashData(Download), SHA256.HashData(_read!));
        await using var connection = new SqliteConnection($"Data Source={_database.Path};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*), SUM(length(bytes)) FROM stream_chunks";
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal((6L, (long)Download.Length), (reader.GetInt64(0), reader.GetInt64(1)));
    }

    [Fact]
    public async Task AStateOverTheSpillThreshold_IsKeptAsStreamContentInTheFile_AndRestoredByTheNextEngine()
    {
        var rows = string.Join('\n', Enumerable.Range(0, 60_000).Select(i => $"order-{i},customer-{i % 97},{i * 3}.50"));
        var flow = Flow.Create<State>("large-state")
            .Retry(RetryPolicy.None)
            .Stage("load", (c, _) =>
            {
                c.State.Rows = rows;
                return Task.CompletedTask;
            })
            .RecoveryPoint("loaded")
            .Stage("check", (c, _) => c.Recovery.Attempt == 1 ? throw new InvalidOperationException("stop") : Task.CompletedTask)
            .Build();
        RunId runId;
        await using (var first = Engine(flow))
        {
            await first.StartAsync();
            runId = (await first.RunAsync(flow, new State()).WaitAsync(TimeSpan.FromSeconds(30))).RunId;
        }

        SqliteConnection.ClearAllPools();
        await using var second = Engine(flow);
        await second.StartAsync();
        var checkpoint = (await second.Store.GetRecoveryDataAsync(runId, CancellationToken.None)).Checkpoint!;
        await second.RerunAsync(runId);
        var rerun = await second.WaitForRunAsync(flow, runId).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(rerun.Status == RunStatus.Completed, rerun.Error);
        Assert.Equal(rows, rerun.Result!.Rows);
        Assert.True(checkpoint.State.IsEmpty);
        Assert.True(checkpoint.Streams["$state.whole"].Length > rows.Length); // One value over 1 MiB: read back whole.
    }

    public sealed class State
    {
        public bool FailInsert { get; set; }

        public string? Rows { get; set; }
    }
}
