using Npgsql;

namespace Cairn.Postgres;

/// <summary>
/// A connection of the store's own, kept for as long as a wake-up subscription or a node lock lasts and set up for it
/// (a LISTEN, an advisory lock). It waits on the connection, so that notifications arrive and a session ended by the
/// server is seen at once, and queries it every <see cref="CheckInterval"/>. A lost connection is opened and set up again
/// after a growing delay on the store's clock, from <see cref="FirstDelay"/> doubling up to <see cref="LastDelay"/>.
/// </summary>
internal abstract class PostgresDedicatedConnection : IAsyncDisposable
{
    public static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(100);

    public static readonly TimeSpan LastDelay = TimeSpan.FromSeconds(30);

    // A connection whose network is gone silently may never report an error while it waits: a query now and then does.
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(30);

    private readonly NpgsqlDataSource _dataSource;
    private readonly TimeProvider _timeProvider;
    private readonly CancellationTokenSource _stopping = new();
    private Task<NpgsqlConnection?> _loop = Task.FromResult<NpgsqlConnection?>(null);
    private int _processId;
    private int _disposed;

    protected PostgresDedicatedConnection(NpgsqlDataSource dataSource, TimeProvider timeProvider)
    {
        _dataSource = dataSource;
        _timeProvider = timeProvider;
    }

    /// <summary>The server process of the set-up connection, 0 while there is none.</summary>
    internal int ProcessId => Volatile.Read(ref _processId);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        var connection = await _loop.ConfigureAwait(false);
        _stopping.Dispose();
        Volatile.Write(ref _processId, 0);
        if (connection is not null)
        {
            await DiscardAsync(connection).ConfigureAwait(false);
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Sets a new connection up for its purpose; throws when it cannot be, now.</summary>
    protected abstract Task SetUpAsync(NpgsqlConnection connection, CancellationToken cancellationToken);

    /// <summary>Undoes the set-up on a connection about to be closed, so that a pooled one does not keep it for its next user.</summary>
    protected abstract Task ReleaseAsync(NpgsqlConnection connection);

    /// <summary>The release failed: the session was already gone (or going), and what it held with it.</summary>
    protected virtual void OnReleaseFailed(Exception exception)
    {
    }

    /// <summary>The connection was lost, or a new one could not be opened or set up; the next attempt is in <paramref name="delay"/>.</summary>
    protected abstract void OnLost(TimeSpan delay, Exception failure);

    /// <summary>A new connection is set up after a loss.</summary>
    protected abstract void OnRestored();

    /// <summary>Opens and sets up the connection, then keeps it in the background; throws what opening or setting up threw.</summary>
    protected async Task OpenAsync(CancellationToken cancellationToken)
    {
        var connection = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        _loop = Task.Run(() => KeepAsync(connection, failure: null), CancellationToken.None);
    }

    /// <summary>Keeps trying to open and set up the connection in the background, after a first attempt failed.</summary>
    protected void KeepTrying(Exception failure) => _loop = Task.Run(() => KeepAsync(connection: null, failure), CancellationToken.None);

    /// <returns>The set-up connection when the loop stopped, if there was one.</returns>
    private async Task<NpgsqlConnection?> KeepAsync(NpgsqlConnection? connection, Exception? failure)
    {
        var stopping = _stopping.Token;
        var delay = FirstDelay;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                if (failure is not null)
                {
                    OnLost(delay, failure);
                    failure = null;
                    await Task.Delay(delay, _timeProvider, stopping).ConfigureAwait(false);
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LastDelay.Ticks));
                    connection = await ConnectAsync(stopping).ConfigureAwait(false);
                    delay = FirstDelay;
                    OnRestored();
                }

                if (connection is not null && !await WaitAsync(connection, stopping).ConfigureAwait(false))
                {
                    // Not cancelled by disposal: a cancellation that reached the server late could cancel the release.
                    await using var check = new NpgsqlCommand("SELECT 1", connection);
                    await check.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
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
                    await DiscardAsync(connection).ConfigureAwait(false);
                    connection = null;
                }
            }
        }

        return connection;
    }

    /// <summary>Waits for messages from the server up to <see cref="CheckInterval"/> on the store's clock; false when it passed.</summary>
    private async Task<bool> WaitAsync(NpgsqlConnection connection, CancellationToken stopping)
    {
        using var interval = new CancellationTokenSource(CheckInterval, _timeProvider);
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(stopping, interval.Token);
        try
        {
            await connection.WaitAsync(waiting.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (interval.IsCancellationRequested && !stopping.IsCancellationRequested)
        {
            return false;
        }
    }

    private async Task<NpgsqlConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await SetUpAsync(connection, cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _processId, connection.ProcessID);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task DiscardAsync(NpgsqlConnection connection)
    {
        try
        {
            if (connection.State == System.Data.ConnectionState.Open)
            {
                await ReleaseAsync(connection).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
        {
            // A broken connection is not given back to the pool anyway.
            OnReleaseFailed(ex);
        }

        await connection.DisposeAsync().ConfigureAwait(false);
    }
}
