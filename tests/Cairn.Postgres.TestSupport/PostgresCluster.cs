using Npgsql;

namespace Cairn.Postgres.TestSupport;

/// <summary>
/// The one throwaway PostgreSQL cluster of a test run, shared by the classes of a test collection. Each
/// store under test gets a schema of its own (<see cref="NewSchema"/>), dropped when the test ends.
/// </summary>
public sealed class PostgresCluster : IAsyncLifetime
{
    // As the store's own data sources have it (PostgresRunStore.AutoPreparedStatements).
    private const int AutoPreparedStatements = 32;

    private PostgresServer? _server;
    private NpgsqlDataSource? _dataSource;
    private int _schemas;

    public PostgresServer Server => _server ?? throw new InvalidOperationException("The cluster starts in InitializeAsync.");

    /// <summary>A pool shared by the tests, as an application would share one with the store.</summary>
    public NpgsqlDataSource DataSource => _dataSource ?? throw new InvalidOperationException("The cluster starts in InitializeAsync.");

    public string ConnectionString => Server.ConnectionString();

    public async Task InitializeAsync()
    {
        _server = await PostgresServer.StartNewAsync();
        // Prepared statements as the store's own data sources have them, shared by every test on this pool.
        _dataSource = NpgsqlDataSource.Create($"{_server.ConnectionString()};Max Auto Prepare={AutoPreparedStatements}");
    }

    public async Task DisposeAsync()
    {
        if (_dataSource is not null)
        {
            await _dataSource.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>A schema name no other test uses.</summary>
    public string NewSchema(string prefix = "test") => $"{prefix}_{Interlocked.Increment(ref _schemas)}_{Guid.NewGuid().ToString("N")[..8]}";

    public async Task DropSchemaAsync(string schema)
    {
        await using var command = DataSource.CreateCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
        await command.ExecuteNonQueryAsync();
    }

    public async Task<T> ScalarAsync<T>(string sql, params (string Name, object Value)[] parameters)
    {
        await using var command = DataSource.CreateCommand(sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var command = DataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
