using Cairn.Runs;
using Cairn.Storage;
using Cairn.StoreContract;

namespace Cairn.Sqlite.Tests;

public sealed class SqliteRunStoreContractTests : RunStoreContract
{
    private readonly TemporaryDatabase _database = new();
    protected override async Task<RunStore> CreateStoreAsync(FakeTimeProvider time)
    {
        var store = new SqliteRunStore(new SqliteStoreOptions { Path = _database.Path, TimeProvider = time });
        await store.InitializeAsync(CancellationToken.None);
        return store;
    }

    protected override Task<int?> CountCheckpointsAsync(RunId runId)
    {
        using var connection = ((SqliteRunStore)Store).OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM checkpoints WHERE run_id = $run_id";
        command.Parameters.AddWithValue("$run_id", runId.ToString());
        return Task.FromResult<int?>(Convert.ToInt32(command.ExecuteScalar()));
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _database.Delete();
    }
}
