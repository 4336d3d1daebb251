using System.Security.Cryptography;
using System.Text;
using Cairn.Storage;
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
/// When the lock's connection is lost (a database restart, a terminated backend), the lock goes with it: it is not held
/// (<see cref="IsHeld"/>) while a new connection is opened with a growing delay on the store's clock, and the lock is
/// taken again on it once no other process holds the name. Meanwhile a second process of the same name may take the
/// name and claim the runs with a new epoch: fencing refuses the first one's writes.
/// </remarks>
internal sealed class PostgresNodeLock : PostgresDedicatedConnection, IWorkerLock
{
    private readonly long _key;
    private readonly string _schema;
    private readonly string _owner;
    private readonly string _database;
    private readonly ILogger _logger;

    private PostgresNodeLock(NpgsqlDataSource dataSource, string schema, string owner, string database, TimeProvider timeProvider, ILogger logger)
        : base(dataSource, timeProvider)
    {
        _key = Key(schema, owner);
        _schema = schema;
        _owner = owner;
        _database = database;
        _logger = logger;
    }

    public bool IsHeld => ProcessId != 0;

    /// <exception cref="StoreUnavailableException">A live process holds the name.</exception>
    public static Task<PostgresNodeLock> AcquireAsync(
        NpgsqlDataSource dataSource, string schema, string owner, string database, TimeProvider timeProvider, ILogger logger, CancellationToken cancellationToken) =>
        Disposal.StartedAsync(new PostgresNodeLock(dataSource, schema, owner, database, timeProvider, logger), static (l, ct) => l.OpenAsync(ct), cancellationToken);

    /// <summary>A 64-bit key of the schema and name; a collision (odds 2⁻⁶⁴) would only make two names exclude each other.</summary>
    internal static long Key(string schema, string owner) =>
        BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes($"cairn.node:{schema}:{owner}")), 0);

    protected override async Task SetUpAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        // Not cancelled: a lock granted to a query that was cancelled too late would stay with the session unnoticed.
        await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", connection);
        command.Parameters.AddWithValue("key", _key);
        if (await command.ExecuteScalarAsync(CancellationToken.None).ConfigureAwait(false) is not true)
        {
            throw new StoreUnavailableException(
                $"The node name '{_owner}' is in use by another live node on schema '{_schema}': give each node its own name (cairn serve --node NAME).");
        }
    }

    protected override async Task ReleaseAsync(NpgsqlConnection connection)
    {
        await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", connection);
        command.Parameters.AddWithValue("key", _key);
        await command.ExecuteScalarAsync().ConfigureAwait(false);
    }

    // The session is gone (a lost connection or a database restart), and the lock with it.
    protected override void OnReleaseFailed(Exception exception) => Log.Postgres.NodeLockLost(_logger, _owner, exception.Message);

    protected override void OnLost(TimeSpan delay, Exception failure)
    {
        if (failure is StoreUnavailableException)
        {
            Log.Postgres.NodeLockInUse(_logger, _owner, _database, delay);
        }
        else
        {
            Log.Postgres.NodeLockConnectionLost(_logger, _owner, _database, delay, failure);
        }
    }

    protected override void OnRestored() => Log.Postgres.NodeLockRestored(_logger, _owner, _database);
}
