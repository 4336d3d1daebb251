using System.Data.Common;

namespace Cairn.DataSources;

/// <summary>
/// The application's own database, as a stage bound to it sees it (<c>TransactionalStage(name, dataSource, ...)</c>):
/// the stage writes in a transaction of that database, and the engine records the stage's completion — run, stage,
/// attempt, the state it produced and the outbox messages it added — in <see cref="Completions"/>, in the same
/// transaction, as the last statement before COMMIT. A stage whose completion is recorded never runs again for its run:
/// a later attempt takes the recorded state instead, and of two attempts racing (a node that lost its lease and its
/// successor) only one can commit. Implement it for a unit of work of your own; use <see cref="ApplicationDataSource"/>
/// for plain ADO.NET, or the Entity Framework Core integration package.
/// </summary>
public abstract class StageDataSource
{
    private readonly Lock _lock = new();
    private Task? _ensuring;
    private volatile bool _created;

    /// <param name="name">How messages and logs name the data source.</param>
    /// <param name="completions">The table the completion records go to.</param>
    protected StageDataSource(string name, CompletionTable completions)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(completions);
        Name = name;
        Completions = completions;
    }

    /// <summary>How messages and logs name the data source.</summary>
    public string Name { get; }

    /// <summary>The table the completion records go to.</summary>
    public CompletionTable Completions { get; }

    /// <summary>
    /// Opens a connection and begins a transaction. Before its first transaction an implementation calls
    /// <see cref="EnsureCompletionTableAsync"/> on the open connection.
    /// </summary>
    /// <param name="cancellationToken">Cancels the opening.</param>
    protected internal abstract Task<StageUnitOfWork> BeginAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Creates the completion table if it is missing (<see cref="CompletionTable.EnsureCreatedAsync"/>), once for the
    /// data source's lifetime; call it on an open connection with no transaction begun.
    /// </summary>
    /// <param name="connection">An open connection to the application's database.</param>
    /// <param name="cancellationToken">Cancels the creation.</param>
    protected async Task EnsureCompletionTableAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        if (_created)
        {
            return;
        }

        Task ensuring;
        lock (_lock)
        {
            // One creation at a time: concurrent CREATE TABLE IF NOT EXISTS can fail on PostgreSQL. A failed one is tried again.
            if (_ensuring is null || _ensuring.IsFaulted || _ensuring.IsCanceled)
            {
                _ensuring = Completions.EnsureCreatedAsync(connection, cancellationToken);
            }

            ensuring = _ensuring;
        }

        await ensuring.ConfigureAwait(false);
        _created = true;
    }

    /// <summary>The data source's name.</summary>
    public override string ToString() => Name;
}
