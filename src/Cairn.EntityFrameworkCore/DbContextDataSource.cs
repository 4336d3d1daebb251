using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Cairn.EntityFrameworkCore;

/// <summary>
/// The application's database reached through an Entity Framework Core <see cref="DbContext"/>: each stage bound to it
/// (<see cref="DbContextStepsBuilderExtensions.TransactionalStage{TState, TSelf, TDbContext}"/>) gets a new context with a
/// transaction begun (<c>Database.BeginTransactionAsync</c>); after the stage the engine saves the context's changes,
/// inserts the stage's completion record through the context's connection and transaction, and commits, so the
/// changes and the record commit together. The completion table is created on first use, or add
/// <see cref="CompletionTable.CreateTableSql"/> to your migrations. Do not combine it with a retrying execution strategy
/// (<c>EnableRetryOnFailure</c>): those refuse transactions begun by the application.
/// </summary>
/// <typeparam name="TDbContext">The application's context type.</typeparam>
public sealed class DbContextDataSource<TDbContext> : StageDataSource
    where TDbContext : DbContext
{
    private readonly Func<TDbContext> _createContext;

    /// <param name="factory">Makes the contexts, one per stage; from <c>AddDbContextFactory</c>.</param>
    /// <param name="dialect">The database's SQL dialect; null to tell it from the provider's connection type.</param>
    /// <param name="tableName">The completion table's name, optionally schema-qualified. Default <see cref="CompletionTable.DefaultTableName"/>.</param>
    /// <param name="name">How messages and logs name the data source. Default: the context type's name.</param>
    /// <exception cref="NotSupportedException"><paramref name="dialect"/> is null and the provider is none of the four known ones.</exception>
    public DbContextDataSource(IDbContextFactory<TDbContext> factory, CompletionDialect? dialect = null, string? tableName = null, string? name = null)
        : this(Checked(factory).CreateDbContext, dialect, tableName, name)
    {
    }

    /// <param name="createContext">Makes the contexts, one per stage; each is disposed when its stage ends.</param>
    /// <param name="dialect">The database's SQL dialect; null to tell it from the provider's connection type.</param>
    /// <param name="tableName">The completion table's name, optionally schema-qualified. Default <see cref="CompletionTable.DefaultTableName"/>.</param>
    /// <param name="name">How messages and logs name the data source. Default: the context type's name.</param>
    /// <exception cref="NotSupportedException"><paramref name="dialect"/> is null and the provider is none of the four known ones.</exception>
    public DbContextDataSource(Func<TDbContext> createContext, CompletionDialect? dialect = null, string? tableName = null, string? name = null)
        : base(name ?? typeof(TDbContext).Name, new CompletionTable(dialect ?? DetectDialect(createContext), tableName))
    {
        _createContext = createContext;
    }

    /// <inheritdoc />
    protected override async Task<StageUnitOfWork> BeginAsync(CancellationToken cancellationToken)
    {
        var context = _createContext();
        try
        {
            // Opened by hand first, so that the completion table can be made before the transaction begins.
            await context.Database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await EnsureCompletionTableAsync(context.Database.GetDbConnection(), cancellationToken).ConfigureAwait(false);
            var transaction = await context.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            return new DbContextUnitOfWork<TDbContext>(context, transaction);
        }
        catch
        {
            await context.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static IDbContextFactory<TDbContext> Checked(IDbContextFactory<TDbContext> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        return factory;
    }

    private static CompletionDialect DetectDialect(Func<TDbContext> createContext)
    {
        ArgumentNullException.ThrowIfNull(createContext);

        // A context's connection object tells the provider; it is not opened.
        using var context = createContext();
        return CompletionTable.DetectDialect(context.Database.GetDbConnection());
    }
}

/// <summary>A stage's context and its transaction.</summary>
internal sealed class DbContextUnitOfWork<TDbContext>(TDbContext context, IDbContextTransaction transaction) : StageUnitOfWork
    where TDbContext : DbContext
{
    public TDbContext Context => context;

    public override DbConnection Connection => context.Database.GetDbConnection();

    public override DbTransaction Transaction => transaction.GetDbTransaction();

    public override Task BeforeCommitAsync(CancellationToken cancellationToken) => context.SaveChangesAsync(cancellationToken);

    public override Task CommitAsync(CancellationToken cancellationToken) => transaction.CommitAsync(cancellationToken);

    protected override async ValueTask DisposeAsyncCore()
    {
        // Disposing an uncommitted transaction rolls it back; the context closes the connection it was given to open.
        await transaction.DisposeAsync().ConfigureAwait(false);
        await context.DisposeAsync().ConfigureAwait(false);
    }
}
