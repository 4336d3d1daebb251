using Cairn.Runs;
using Cairn.Storage;
using Cairn.StoreContract;

namespace Cairn.Postgres.Tests;

/// <summary>
/// The shared store contract on a real PostgreSQL, one fresh schema per test. The store's times come from the test's
/// fake clock through the store's test clock hook, since the contract moves time instead of waiting.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresRunStoreContractTests(PostgresCluster cluster) : RunStoreContract
{
    private readonly string _schema = cluster.NewSchema("contract");

    protected override async Task<RunStore> CreateStoreAsync(FakeTimeProvider time)
    {
        var store = new PostgresRunStore(new PostgresStoreOptions { DataSource = cluster.DataSource, Schema = _schema, TestClock = time.GetUtcNow });
        await store.InitializeAsync(CancellationToken.None);
        return store;
    }

    protected override bool WorkerLockCoversWholeStore => false;

    protected override async Task<int?> CountCheckpointsAsync(RunId runId) =>
        (int)await cluster.ScalarAsync<long>($"SELECT count(*) FROM \"{_schema}\".checkpoints WHERE run_id = @run_id", ("run_id", runId.Value));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await cluster.DropSchemaAsync(_schema);
    }
}
