using Cairn.Flows;
using Cairn.Runs;
using Cairn.Serialization;
using Cairn.Sqlite;
using Cairn.Storage;
using Microsoft.Data.Sqlite;

namespace Cairn.Sqlite.Tests;

/// <summary>The engine on a real SQLite file: one engine per file, and restarts resume what a dead engine left.</summary>
public sealed class SqliteEngineTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"cairn-engine-{Guid.NewGuid():N}.db");

    private static Flow<List<string>> TwoStageFlow() =>
        Flow.Create<List<string>>("two-stages")
            .Stage("one", (context, _) =>
            {
                context.State.Add("one");
                return Task.CompletedTask;
            })
            .RecoveryPoint("after-one")
            .Stage("two", (context, _) =>
            {
                context.State.Add("two");
                return Task.CompletedTask;
            })
            .Build();

    [Fact]
    public async Task StartAsync_SecondEngineOnSameFile_IsRefusedWithClearMessage()
    {
        var flow = TwoStageFlow();
        await using var first = CairnEngine.CreateBuilder().UseSqlite(_path).AddFlow(flow).Build();
        await first.StartAsync();
        await using var second = CairnEngine.CreateBuilder().UseSqlite(_path).AddFlow(flow).Build();

        var error = await Assert.ThrowsAsync<StoreUnavailableException>(() => second.StartAsync());

        Assert.Contains("Another Cairn engine", error.Message, StringComparison.Ordinal);
        Assert.Contains(_path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_RunLeftRunningByDeadEngine_ResumesItFromItsLastCheckpoint()
    {
        var flow = TwoStageFlow();
        RunId runId;
        await using (var store = new SqliteRunStore(new SqliteStoreOptions { Path = _path }))
        {
            // Play a dead engine: claim the run, commit the checkpoint of 'after-one', and never come back.
            await store.InitializeAsync(CancellationToken.None);
            var input = new JsonStateSerializer().Serialize(new List<string>());
            runId = RunId.New();
            await store.CreateRunAsync(new NewRun(runId, flow.Name, flow.Version, "left-behind", input, ChecksumOf(input), "{\"retryPolicy\":{}}"), CancellationToken.None);
            var claimed = Assert.Single(await store.ClaimDueRunsAsync(new ClaimRequest("dead-node", [flow.Name], 1, TimeSpan.FromHours(1)), CancellationToken.None));
            var state = new JsonStateSerializer().Serialize(new List<string> { "one" });
            await store.SaveCheckpointAsync(claimed.Lease, new Checkpoint(1, FlowPath.Of(1), "after-one", null, state, ChecksumOf(state)), 1, CancellationToken.None);
        }

        await using var restarted = CairnEngine.CreateBuilder().UseSqlite(_path).AddFlow(flow).Build();
        await restarted.StartAsync();
        var outcome = await restarted.WaitForRunAsync(flow, runId).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(RunStatus.Completed, outcome.Status);
        Assert.Equal(["one", "two"], outcome.Result);
        var events = await restarted.Store.GetEventsAsync(runId, CancellationToken.None);
        Assert.Contains(events, e => e.Kind == RunEventKind.Interrupted);
        Assert.Contains(events, e => e.Kind == RunEventKind.Started && e.Message.Contains("from recovery point 'after-one'", StringComparison.Ordinal));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        foreach (var file in new[] { _path, _path + "-wal", _path + "-shm", _path + ".lock" })
        {
            File.Delete(file);
        }
    }

    private static string ChecksumOf(byte[] data) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data));
}
