namespace Cairn.Storage;

/// <summary>Helpers for code that uses a store without an engine (tools, consoles, tests).</summary>
public static class RunStoreExtensions
{
    /// <summary>
    /// Initializes <paramref name="store"/> (<see cref="RunStore.InitializeAsync"/>) and returns it; when that fails, the
    /// store is disposed before the error is rethrown, so that a tool opening a store it cannot use leaks nothing.
    /// </summary>
    /// <typeparam name="TStore">The store's type.</typeparam>
    /// <param name="store">The store, not yet initialized.</param>
    /// <param name="cancellationToken">Cancels the initialization.</param>
    /// <exception cref="StoreUnavailableException">The store cannot be used.</exception>
    public static Task<TStore> InitializedAsync<TStore>(this TStore store, CancellationToken cancellationToken = default)
        where TStore : RunStore
    {
        ArgumentNullException.ThrowIfNull(store);
        return Disposal.StartedAsync(store, static (s, ct) => s.InitializeAsync(ct), cancellationToken);
    }
}
