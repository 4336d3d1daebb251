using Cairn.Diagnostics;
using Cairn.StoreContract;
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
        var lease = await StoreLogging.RefuseAFencedWriteAsync(engine);

        var migration = Assert.Single(logs.Records, r => r.EventId == CairnEventId.SqliteMigrationApplied && (int)r.Parameters["Version"]! == 1);
        Assert.Equal("Cairn.Store.Sqlite", migration.Category);
        var refused = Assert.Single(logs.Records, r => r.EventId == CairnEventId.SqliteFencedWriteRefused);
        Assert.Equal("Cairn.Store.Sqlite", refused.Category);
        Assert.Equal(lease.RunId, refused.Parameters["RunId"]);
        Assert.Equal(lease.Epoch, refused.Parameters["Epoch"]);
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
