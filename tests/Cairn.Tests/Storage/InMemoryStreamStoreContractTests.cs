using Cairn.Storage;
using Cairn.StoreContract;

namespace Cairn.Tests.Storage;

public sealed class InMemoryStreamStoreContractTests : StreamStoreContract
{
    protected override Task<IStreamStore> CreateAsync(FakeTimeProvider time) => Task.FromResult<IStreamStore>(new InMemoryRunStore(time));
}
