using Cairn.Storage;

namespace Cairn.Postgres.Tests;

/// <summary>
/// The shared stream store contract on a real PostgreSQL, one fresh schema per test; the store's times come from the
/// test's fake clock through its test clock hook.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresStreamStoreContractTests(PostgresCluster cluster) : StreamStoreContract
{
    private readonly string _schema = cluster.NewSchema("streams");

    protected override async Task<IStreamStore> CreateAsync(FakeTimeProvider time)
    {
        var store = new PostgresRunStore(new PostgresStoreOptions { DataSource = cluster.DataSource, Schema = _schema, TestClock = time.GetUtcNow });
        await store.InitializeAsync(CancellationToken.None);
        return store;
    }

    protected override Task DestroyAsync() => cluster.DropSchemaAsync(_schema);
}
