namespace Cairn.Storage;

/// <summary>Hands over a resource only once it has started: one whose start fails is disposed before the error goes on.</summary>
internal static class Disposal
{
    /// <summary>Runs <paramref name="start"/> on <paramref name="resource"/> and returns it, or disposes it and rethrows.</summary>
    public static async Task<T> StartedAsync<T>(T resource, Func<T, CancellationToken, Task> start, CancellationToken cancellationToken)
        where T : IAsyncDisposable
    {
        try
        {
            await start(resource, cancellationToken).ConfigureAwait(false);
            return resource;
        }
        catch
        {
            await resource.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
