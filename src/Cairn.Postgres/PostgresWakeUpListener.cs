using Microsoft.Extensions.Logging;
using Npgsql;

namespace Cairn.Postgres;

/// <summary>
/// A subscription to a store's wake-ups: a dedicated connection that LISTENs on the store's channel and calls the
/// subscriber on every notification. A lost connection is opened again with a growing delay; after every reconnection
/// the subscriber is woken once, since notifications sent meanwhile are lost.
/// </summary>
internal sealed class PostgresWakeUpListener : IAsyncDisposable
{
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LastRetryDelay = TimeSpan.FromSeconds(30);

    // A connection whose network is gone silently may never report an error while it waits: a query now and then does.
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(30);

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _listen;
    private readonly string _channel;
    private readonly string _database;
    private readonly Action _wakeUp;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private Task _loop = Task.CompletedTask;
    private int _processId;
    private int _disposed;

    public PostgresWakeUpListener(NpgsqlDataSource dataSource, PostgresSql sql, string database, Action wakeUp, ILogger logger)
    {
        _dataSource = dataSource;
        _listen = sql.Listen;
        _channel = sql.WakeUpChannel;
        _database = database;
        _wakeUp = wakeUp;
        _logger = logger;
    }

    /// <summary>The server process of the listening connection, 0 while there is none. For tests.</summary>
    internal int ProcessId => Volatile.Read(ref _processId);

    /// <summary>Listens, or when the database cannot be reached now, keeps trying in the background.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        NpgsqlConnection? connection = null;
        Exception? failure = null;
        try
        {
            connection = await ConnectAsync(cancellationToken).ConfigureAwait(false);
            Log.Postgres.WakeUpsListening(_logger, _database, _channel);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException)
        {
            failure = ex;
        }

        _loop = Task.Run(() => ListenAsync(connection, failure), CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task ListenAsync(NpgsqlConnection? connection, Exception? failure)
    {
        var stopping = _stopping.Token;
        var delay = FirstRetryDelay;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                if (failure is not null)
                {
                    Log.Postgres.WakeUpsLost(_logger, _database, _channel, delay, failure);
                    failure = null;
                    await Task.Delay(delay, stopping).ConfigureAwait(false);
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LastRetryDelay.Ticks));
                    connection = await ConnectAsync(stopping).ConfigureAwait(false);
                    Log.Postgres.WakeUpsRestored(_logger, _database, _channel);
                    delay = FirstRetryDelay;
                    _wakeUp();
                }

                if (connection is not null && !await connection.WaitAsync(CheckInterval, stopping).ConfigureAwait(false))
                {
                    using var check = new NpgsqlCommand("SELECT 1", connection);
                    await check.ExecuteNonQueryAsync(stopping).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                failure = ex;
                Volatile.Write(ref _processId, 0);
                if (connection is not null)
                {
                    await DisposeQuietlyAsync(connection).ConfigureAwait(false);
                    connection = null;
                }
            }
        }

        if (connection is not null)
        {
            await DisposeQuietlyAsync(connection).ConfigureAwait(false);
        }

        Volatile.Write(ref _processId, 0);
    }

    private async Task<NpgsqlConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            connection.Notification += (_, _) => _wakeUp();
            using var listen = new NpgsqlCommand(_listen, connection);
            await listen.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _processId, connection.ProcessID);
            return connection;
        }
        catch
        {
            await DisposeQuietlyAsync(connection).ConfigureAwait(false);
            throw;
        }
    }

    private static async Task DisposeQuietlyAsync(NpgsqlConnection connection)
    {
        try
        {
            // A pooled connection must not keep listening for its next user.
            if (connection.State == System.Data.ConnectionState.Open)
            {
                using var unlisten = new NpgsqlCommand("UNLISTEN *", connection);
                await unlisten.ExecuteNonQueryAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
        {
            // A broken connection is not given back to the pool anyway.
        }

        await connection.DisposeAsync().ConfigureAwait(false);
    }
}
