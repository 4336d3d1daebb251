using Cairn.Storage;

namespace Cairn.Sqlite.Tests;

public sealed class SqliteTransactionalStoreContractTests : TransactionalStoreContract
{
    private readonly TemporaryDatabase _database = new();

    protected override string EffectsTable => "app_effects";

    protected override async Task<RunStore> CreateStoreAsync(FakeTimeProvider time)
    {
        var store = new SqliteRunStore(new SqliteStoreOptions { Path = _database.Path, TimeProvider = time });
        await store.InitializeAsync(CancellationToken.None);
        using var connection = store.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "CREATE TABLE app_effects (effect TEXT NOT NULL)";
        command.ExecuteNonQuery();
        return store;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _database.Delete();
    }
}
