using Cairn.Storage;

namespace Cairn.Postgres.Tests;

/// <summary>
/// The transactional-stage contract on a real PostgreSQL: the store in one fresh schema, the application's table in
/// another schema of the same database, as an application keeps its own tables beside the store's.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresTransactionalStoreContractTests(PostgresCluster cluster) : TransactionalStoreContract
{
    private readonly string _schema = cluster.NewSchema("transactional");
    private readonly string _appSchema = cluster.NewSchema("app");

    protected override string EffectsTable => $"\"{_appSchema}\".effects";

    protected override async Task<RunStore> CreateStoreAsync(FakeTimeProvider time)
    {
        var store = new PostgresRunStore(new PostgresStoreOptions { DataSource = cluster.DataSource, Schema = _schema, TestClock = time.GetUtcNow });
        await store.InitializeAsync(CancellationToken.None);
        await cluster.ExecuteAsync($"CREATE SCHEMA \"{_appSchema}\"; CREATE TABLE {EffectsTable} (effect text NOT NULL)");
        return store;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await cluster.DropSchemaAsync(_schema);
        await cluster.DropSchemaAsync(_appSchema);
    }
}
