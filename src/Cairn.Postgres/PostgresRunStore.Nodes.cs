using Npgsql;

namespace Cairn.Postgres;

public sealed partial class PostgresRunStore
{
    private readonly TimeProvider _timeProvider;

    /// <inheritdoc />
    /// <remarks>
    /// The attachment holds the node name's lock (<see cref="AcquireWorkerLockAsync"/>) and a LISTEN subscription
    /// (<see cref="SubscribeToWakeUpsAsync"/>).
    /// </remarks>
    public override async ValueTask<StoreAttachment> AttachAsync(string owner, Action wakeUp, CancellationToken cancellationToken)
    {
        var workerLock = await AcquireWorkerLockAsync(owner, cancellationToken).ConfigureAwait(false);
        try
        {
            return new StoreAttachment(workerLock, await SubscribeToWakeUpsAsync(wakeUp, cancellationToken).ConfigureAwait(false));
        }
        catch
        {
            if (workerLock is not null)
            {
                await workerLock.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    /// <summary>Takes the worker lock of one node name.</summary>
    /// <remarks>
    /// The lock covers one node name on this schema: a session-level advisory lock on a connection of its own, held until
    /// the result is disposed. A second live process with the same name is refused; a process that died released it with
    /// its session, so the engine that takes the name next interrupts and resumes that name's runs at once. A lock lost
    /// with its connection (a database restart, a terminated backend) is taken again on a new connection, opened with a
    /// growing delay on <see cref="PostgresStoreOptions.TimeProvider"/>, once no other process holds the name; the loss
    /// and the return are logged, and until the return the attachment does not hold the lock
    /// (<see cref="StoreAttachment.HoldsWorkerLock"/>).
    /// </remarks>
    public async ValueTask<IAsyncDisposable?> AcquireWorkerLockAsync(string owner, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        try
        {
            return await PostgresNodeLock.AcquireAsync(_dataSource, Schema, owner, _database, _timeProvider, _logger, cancellationToken).ConfigureAwait(false);
        }
        catch (NpgsqlException ex) when (IsUnavailable(ex))
        {
            throw Unavailable(ex);
        }
    }

    /// <summary>Subscribes to the store's wake-ups.</summary>
    /// <remarks>
    /// LISTENs on the channel <c>cairn_</c> and the schema name, on a connection of its own taken from the data source
    /// for as long as the subscription lasts. Creating a run, a re-run, a request to compensate, and finding runs of a
    /// dead node send a NOTIFY when their transaction commits (retries are due later: the engines' polling finds them);
    /// so do commits that add outbox messages and re-drives, with the payload <c>outbox</c>, so that the outbox
    /// dispatchers of other nodes look for them (the subscriber is called for every notification). A lost connection is
    /// opened again with a growing delay on <see cref="PostgresStoreOptions.TimeProvider"/>, logged as a warning, and the
    /// subscriber is woken once it is back.
    /// </remarks>
    public async ValueTask<IAsyncDisposable?> SubscribeToWakeUpsAsync(Action wakeUp, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(wakeUp);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var listener = new PostgresWakeUpListener(_dataSource, _sql, _database, wakeUp, _timeProvider, _logger);
        await listener.StartAsync(cancellationToken).ConfigureAwait(false);
        return listener;
    }
}
