using Cairn.Runs;
using Cairn.Storage;

namespace Cairn.Cli;

/// <summary>An open store and the operator API over it; disposing it closes the store.</summary>
internal sealed class OperatorStore(RunStore store) : IAsyncDisposable
{
    public RunOperator Operator { get; } = RunOperator.Create(store);

    public ValueTask DisposeAsync() => store.DisposeAsync();
}
