using System.Data.Common;

namespace Cairn.DataSources;

/// <summary>
/// An application's database reached through any ADO.NET provider's <see cref="DbDataSource"/>: an
/// <c>NpgsqlDataSource</c>, <c>SqliteFactory.Instance.CreateDataSource(connectionString)</c>, SqlClient's or
/// MySqlConnector's. Each stage bound to it runs in a transaction of its own on a connection of its own, and its
/// completion record commits in that transaction (see <see cref="StageDataSource"/>).
/// </summary>
public sealed class ApplicationDataSource : StageDataSource
{
    private readonly DbDataSource _dataSource;

    /// <param name="dataSource">The provider's data source; the caller keeps owning it.</param>
    /// <param name="dialect">The database's SQL dialect; null to tell it from the provider's connection type.</param>
    /// <param name="tableName">The completion table's name, optionally schema-qualified. Default <see cref="CompletionTable.DefaultTableName"/>.</param>
    /// <param name="name">How messages and logs name the data source. Default: the provider's data source name (a file or a server).</param>
    /// <exception cref="NotSupportedException"><paramref name="dialect"/> is null and the provider is none of the four known ones.</exception>
    public ApplicationDataSource(DbDataSource dataSource, CompletionDialect? dialect = null, string? tableName = null, string? name = null)
        : this(dataSource, Describe(dataSource, dialect, tableName, name))
    {
    }

    private ApplicationDataSource(DbDataSource dataSource, (string Name, CompletionTable Table) described)
        : base(described.Name, described.Table)
    {
        _dataSource = dataSource;
    }

    /// <inheritdoc />
    protected internal override async Task<StageUnitOfWork> BeginAsync(CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await EnsureCompletionTableAsync(connection, cancellationToken).ConfigureAwait(false);
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            return new UnitOfWork(connection, transaction);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static (string Name, CompletionTable Table) Describe(DbDataSource dataSource, CompletionDialect? dialect, string? tableName, string? name)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        if (dialect is { } known && name is not null)
        {
            return (name, new CompletionTable(known, tableName));
        }

        // Not opened: the connection object tells its type and where it points, with no round trip.
        using var connection = dataSource.CreateConnection();
        var table = new CompletionTable(dialect ?? CompletionTable.DetectDialect(connection), tableName);
        return (name ?? (string.IsNullOrEmpty(connection.DataSource) ? table.Dialect.ToString() : connection.DataSource), table);
    }

    private sealed class UnitOfWork(DbConnection connection, DbTransaction transaction) : StageUnitOfWork
    {
        public override DbConnection Connection => connection;

        public override DbTransaction Transaction => transaction;

        public override Task CommitAsync(CancellationToken cancellationToken) => transaction.CommitAsync(cancellationToken);

        protected override async ValueTask DisposeAsyncCore()
        {
            // Disposing an uncommitted transaction rolls it back.
            await transaction.DisposeAsync().ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }
}
