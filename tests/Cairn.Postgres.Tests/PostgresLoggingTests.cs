using Cairn.Diagnostics;
using Cairn.StoreContract;

namespace Cairn.Postgres.Tests;

/// <summary>What the PostgreSQL store an engine creates logs: its category, its public event IDs, and IDs as parameters.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresLoggingTests(PostgresCluster cluster) : IAsyncLifetime
{
    private readonly string _schema = cluster.NewSchema("logging");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => cluster.DropSchemaAsync(_schema);

    [Fact]
    public async Task SaveCheckpointAsync_RunCancelledByOperator_LogsRefusedWriteUnderStoreCategoryWithRunIdParameter()
    {
        var logs = new RecordingLoggerFactory();
        await using var engine = CairnEngine.CreateBuilder()
            .UseLoggerFactory(logs)
            .UsePostgres(cluster.ConnectionString, options => options.Schema = _schema)
            .Build();
        var lease = await StoreLogging.RefuseAFencedWriteAsync(engine);

        var migration = Assert.Single(logs.Records, r => r.EventId == CairnEventId.PostgresMigrationApplied && (int)r.Parameters["Version"]! == 1);
        Assert.Equal("Cairn.Store.Postgres", migration.Category);
        var refused = Assert.Single(logs.Records, r => r.EventId == CairnEventId.PostgresFencedWriteRefused);
        Assert.Equal("Cairn.Store.Postgres", refused.Category);
        Assert.Equal(lease.RunId, refused.Parameters["RunId"]);
        Assert.Equal(lease.Epoch, refused.Parameters["Epoch"]);
        Assert.Contains("{RunId}", (string)refused.Parameters["{OriginalFormat}"]!, StringComparison.Ordinal);
    }
}
