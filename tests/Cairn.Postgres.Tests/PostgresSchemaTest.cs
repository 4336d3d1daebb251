using Microsoft.Extensions.Logging;

namespace Cairn.Postgres.Tests;

/// <summary>A test class whose tests each get a schema of their own, dropped after the test with what it opened on it.</summary>
public abstract class PostgresSchemaTest(PostgresCluster cluster, string prefix) : IAsyncLifetime
{
    protected static readonly CancellationToken Ct = CancellationToken.None;
    protected static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private readonly List<IAsyncDisposable> _disposables = [];

    protected PostgresCluster Cluster => cluster;

    protected string Schema { get; } = cluster.NewSchema(prefix);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        for (var i = _disposables.Count - 1; i >= 0; i--)
        {
            await _disposables[i].DisposeAsync();
        }

        await cluster.DropSchemaAsync(Schema);
    }

    /// <summary>Disposes <paramref name="disposable"/> when the test ends, before what was added earlier.</summary>
    protected T DisposeAfterTest<T>(T disposable)
        where T : IAsyncDisposable
    {
        _disposables.Add(disposable);
        return disposable;
    }

    /// <summary>Opens a store of its own on the schema, with its own pool, on <paramref name="time"/> (default: the system clock).</summary>
    protected async Task<PostgresRunStore> OpenAsync(TimeProvider? time = null, ILogger? logger = null)
    {
        var options = new PostgresStoreOptions { ConnectionString = cluster.ConnectionString, Schema = Schema, TimeProvider = time ?? TimeProvider.System };
        var store = DisposeAfterTest(new PostgresRunStore(options, logger));
        await store.InitializeAsync(Ct);
        return store;
    }

    /// <summary>Terminates a server process; with a timeout, pg_terminate_backend returns once it has exited.</summary>
    protected Task<bool> TerminateAsync(int processId) => cluster.ScalarAsync<bool>("SELECT pg_terminate_backend(@pid, 10000)", ("pid", processId));
}
