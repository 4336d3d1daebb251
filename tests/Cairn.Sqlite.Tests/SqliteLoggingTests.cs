using Cairn.Flows;
using Cairn.Runs;
using Cairn.Storage;
using Microsoft.Data.Sqlite;

namespace Cairn.Sqlite.Tests;

/// <summary>What the SQLite store an engine creates logs: its category, its public event IDs, and IDs as parameters.</summary>
public sealed class SqliteLoggingTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"cairn-logging-{Guid.NewGuid():N}.db");

    [Fact]
    public async Task SaveCheckpointAsync_RunCancelledByOperator_LogsRefusedWriteUnderStoreCategoryWithRunIdParameter()
    {
        var logs = new RecordingLoggerFactory();
        await using var engine = CairnEngine.CreateBuilder().UseLoggerFactory(logs).UseSqlite(_path).Build();
        await engine.StartAsync();
        var store = engine.Store;
        var runId = RunId.New();
        await store.CreateRunAsync(new NewRun(runId, "orders", 1, "order-1", new byte[] { 1 }, "c", "{}"), CancellationToken.None);
        var claimed = Assert.Single(await store.ClaimDueRunsAsync(new ClaimRequest("node-a", ["orders"], 1, TimeSpan.FromMinutes(5)), CancellationToken.None));

        // An operator cancels the run while its attempt works: the attempt's next checkpoint is fenced out.
        await ((IRunOperations)store).CancelRunAsync(runId, "cancelled by test", CancellationToken.None);
        await Assert.ThrowsAsync<RunOwnershipLostException>(() =>
            store.SaveCheckpointAsync(claimed.Lease, new Checkpoint(1, FlowPath.Of(1), "after-one", null, new byte[] { 2 }, "c2"), 1, CancellationToken.None));

        var migration = Assert.Single(logs.Records, r => r.EventId == SqliteEventId.MigrationApplied && (int)r.Parameters["Version"]! == 1);
        Assert.Equal("Cairn.Store.Sqlite", migration.Category);
        var refused = Assert.Single(logs.Records, r => r.EventId == SqliteEventId.FencedWriteRefused);
        Assert.Equal("Cairn.Store.Sqlite", refused.Category);
        Assert.Equal(runId, refused.Parameters["RunId"]);
        Assert.Equal(claimed.Lease.Epoch, refused.Parameters["Epoch"]);
        Assert.Contains("{RunId}", (string)refused.Parameters["{OriginalFormat}"]!, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        foreach (var file in new[] { _path, _path + "-wal", _path + "-shm", _path + ".lock" })
        {
            File.Delete(file);
        }
    }
}
