using System.Data.Common;

namespace Cairn.DataSources;

/// <summary>
/// One open transaction of a <see cref="StageDataSource"/>: the stage writes in it, the engine then calls
/// <see cref="BeforeCommitAsync"/>, inserts the stage's completion record through <see cref="Connection"/> and
/// <see cref="Transaction"/>, and calls <see cref="CommitAsync"/>. Disposing it without a commit rolls it back.
/// </summary>
public abstract class StageUnitOfWork : IAsyncDisposable
{
    /// <summary>The open connection to the application's database.</summary>
    public abstract DbConnection Connection { get; }

    /// <summary>The transaction the stage's writes and its completion record commit in.</summary>
    public abstract DbTransaction Transaction { get; }

    /// <summary>
    /// Runs after the stage and before the completion record is inserted: where a unit of work flushes what it holds
    /// (Entity Framework Core saves its changes). Does nothing by default.
    /// </summary>
    /// <param name="cancellationToken">Cancels the flush.</param>
    public virtual Task BeforeCommitAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Commits the transaction: the stage's writes and its completion record, together.</summary>
    /// <param name="cancellationToken">Cancels the commit.</param>
    public abstract Task CommitAsync(CancellationToken cancellationToken);

    /// <summary>Rolls the transaction back if it was not committed, and releases the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        await DisposeAsyncCore().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <summary>Rolls the transaction back if it was not committed, and releases the connection.</summary>
    protected abstract ValueTask DisposeAsyncCore();
}
