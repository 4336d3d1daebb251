using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Cairn.Postgres;

/// <summary>
/// The lock of one node name on one schema: a session-level advisory lock held on a connection of its own for the
/// engine's lifetime. While a process holds it, no other process can run a node of the same name; when a process dies
/// its session ends and the lock goes with it, so the next process that takes the name knows that the runs still owned
/// by it are abandoned and resumes them at once instead of waiting for their leases to expire.
/// </summary>
/// <remarks>
/// If the lock's connection is lost (a database restart), the lock is gone too until the engine restarts. Fencing still
/// protects the runs: a second process of the same name would claim them with a new epoch, and the first one's writes
/// would be refused.
/// </remarks>
internal sealed class PostgresNodeLock : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly long _key;
    private readonly ILogger _logger;
    private readonly string _owner;

    private PostgresNodeLock(NpgsqlConnection connection, long key, string owner, ILogger logger)
    {
        _connection = connection;
        _key = key;
        _owner = owner;
        _logger = logger;
    }

    /// <exception cref="StoreUnavailableException">A live process holds the name.</exception>
    public static async Task<PostgresNodeLock> AcquireAsync(NpgsqlDataSource dataSource, string schema, string owner, ILogger logger, CancellationToken cancellationToken)
    {
        var key = Key(schema, owner);
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", connection);
            command.Parameters.AddWithValue("key", key);
            if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not true)
            {
                throw new StoreUnavailableException(
                    $"The node name '{owner}' is in use by another live node on schema '{schema}': give each node its own name (cairn serve --node NAME).");
            }

            return new PostgresNodeLock(connection, key, owner, logger);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", _connection);
            command.Parameters.AddWithValue("key", _key);
            await command.ExecuteScalarAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            // The session is gone (a lost connection or a database restart), and the lock with it.
            Log.Postgres.NodeLockLost(_logger, _owner, ex.Message);
        }
        finally
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>A 64-bit key of the schema and name; a collision (odds 2⁻⁶⁴) would only make two names exclude each other.</summary>
    internal static long Key(string schema, string owner) =>
        BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes($"cairn.node:{schema}:{owner}")), 0);
}
