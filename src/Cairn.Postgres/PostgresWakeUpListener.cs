using Microsoft.Extensions.Logging;
using Npgsql;

namespace Cairn.Postgres;

/// <summary>
/// A subscription to a store's wake-ups: a dedicated connection that LISTENs on the store's channel and calls the
/// subscriber on every notification. A lost connection is opened again with a growing delay on the store's clock
/// (<see cref="PostgresDedicatedConnection"/>); after every reconnection the subscriber is woken once, since
/// notifications sent meanwhile are lost.
/// </summary>
internal sealed class PostgresWakeUpListener : PostgresDedicatedConnection
{
    private readonly string _listen;
    private readonly string _channel;
    private readonly string _database;
    private readonly Action _wakeUp;
    private readonly ILogger _logger;

    public PostgresWakeUpListener(NpgsqlDataSource dataSource, PostgresSql sql, string database, Action wakeUp, TimeProvider timeProvider, ILogger logger)
        : base(dataSource, timeProvider)
    {
        _listen = sql.Listen;
        _channel = sql.WakeUpChannel;
        _database = database;
        _wakeUp = wakeUp;
        _logger = logger;
    }

    /// <summary>Listens, or when the database cannot be reached now, keeps trying in the background.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await OpenAsync(cancellationToken).ConfigureAwait(false);
            Log.Postgres.WakeUpsListening(_logger, _database, _channel);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException)
        {
            KeepTrying(ex);
        }
    }

    protected override async Task SetUpAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        connection.Notification += (_, _) => _wakeUp();
        await using var listen = new NpgsqlCommand(_listen, connection);
        await listen.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ReleaseAsync(NpgsqlConnection connection)
    {
        await using var unlisten = new NpgsqlCommand("UNLISTEN *", connection);
        await unlisten.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    protected override void OnLost(TimeSpan delay, Exception failure) => Log.Postgres.WakeUpsLost(_logger, _database, _channel, delay, failure);

    protected override void OnRestored()
    {
        Log.Postgres.WakeUpsRestored(_logger, _database, _channel);
        _wakeUp();
    }
}
