using Cairn.Flows;
using Cairn.Runs;
using Cairn.Storage;

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
        await engine.StartAsync();
        var store = engine.Store;
        var runId = RunId.New();
        await store.CreateRunAsync(new NewRun(runId, "orders", 1, "order-1", new byte[] { 1 }, "c", "{}"), CancellationToken.None);
        var claimed = Assert.Single(await store.ClaimDueRunsAsync(new ClaimRequest("node-a", ["orders"], 1, TimeSpan.FromMinutes(5)), CancellationToken.None));

        // An operator cancels the run while its attempt works: the attempt's next checkpoint is fenced out.
        await ((IRunOperations)store).CancelRunAsync(runId, "cancelled by test", CancellationToken.None);
        await Assert.ThrowsAsync<RunOwnershipLostException>(() =>
            store.SaveCheckpointAsync(claimed.Lease, new Checkpoint(1, FlowPath.Of(1), "after-one", null, new byte[] { 2 }, "c2"), 1, CancellationToken.None));

        var migration = Assert.Single(logs.Records, r => r.EventId == PostgresEventId.MigrationApplied && (int)r.Parameters["Version"]! == 1);
        Assert.Equal("Cairn.Store.Postgres", migration.Category);
        var refused = Assert.Single(logs.Records, r => r.EventId == PostgresEventId.FencedWriteRefused);
        Assert.Equal("Cairn.Store.Postgres", refused.Category);
        Assert.Equal(runId, refused.Parameters["RunId"]);
        Assert.Equal(claimed.Lease.Epoch, refused.Parameters["Epoch"]);
        Assert.Contains("{RunId}", (string)refused.Parameters["{OriginalFormat}"]!, StringComparison.Ordinal);
    }
}
