using Cairn.Storage;
using Cairn.StoreContract;

namespace Cairn.Tests.Storage;

public sealed class InMemoryRunStoreContractTests : RunStoreContract
{
    protected override async Task<RunStore> CreateStoreAsync(FakeTimeProvider time)
    {
        var store = new InMemoryRunStore(time);
        await store.InitializeAsync(CancellationToken.None);
        return store;
    }
}
