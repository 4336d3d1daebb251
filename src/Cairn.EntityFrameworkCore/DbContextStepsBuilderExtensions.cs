using Microsoft.EntityFrameworkCore;

namespace Cairn.EntityFrameworkCore;

/// <summary>Adds stages that write through an Entity Framework Core <see cref="DbContext"/> to flows.</summary>
public static class DbContextStepsBuilderExtensions
{
    /// <summary>
    /// Adds a transactional stage on the application's database through its <typeparamref name="TDbContext"/>: the stage
    /// changes a new context, and the engine saves the changes and records the stage's completion in one transaction, so
    /// that a stage whose completion is recorded never runs again for its run (see
    /// <see cref="StepsBuilder{TState, TSelf}.TransactionalStage(string, StageDataSource, Func{StageContext{TState}, System.Data.Common.DbTransaction, CancellationToken, Task})"/>).
    /// </summary>
    /// <typeparam name="TState">The flow's state type.</typeparam>
    /// <typeparam name="TSelf">The builder.</typeparam>
    /// <typeparam name="TDbContext">The application's context type.</typeparam>
    /// <param name="steps">The flow, loop body or branch path.</param>
    /// <param name="name">The stage's name, unique in the flow.</param>
    /// <param name="dataSource">Makes the stage's context.</param>
    /// <param name="execute">
    /// The stage's work on the context. Its changes are saved after it returns (calling <c>SaveChangesAsync</c> yourself
    /// is allowed too); do not commit or roll back the transaction; throw to roll it back.
    /// </param>
    public static TSelf TransactionalStage<TState, TSelf, TDbContext>(
        this StepsBuilder<TState, TSelf> steps, string name, DbContextDataSource<TDbContext> dataSource,
        Func<StageContext<TState>, TDbContext, CancellationToken, Task> execute)
        where TSelf : StepsBuilder<TState, TSelf>
        where TDbContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(steps);
        ArgumentNullException.ThrowIfNull(execute);
        return steps.UnitOfWorkStage(
            name, dataSource, (context, unit, cancellationToken) => execute(context, ((DbContextUnitOfWork<TDbContext>)unit).Context, cancellationToken));
    }
}
