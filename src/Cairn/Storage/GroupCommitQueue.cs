namespace Cairn.Storage;

/// <summary>
/// Group commit, for store authors: writes queue up and a single writer commits them in batches, one transaction (one
/// flush to disk) per batch. A write that finds the store idle is committed at once on its caller's thread, so a lone
/// writer pays no thread hop; writes that queued up meanwhile are committed after it, in order, on the thread pool.
/// </summary>
/// <remarks>
/// The queue orders and batches; the store commits. Its commit function runs one batch in one transaction (each write in
/// a savepoint of its own, so that one that fails is rolled back alone), completes each write only after the commit, and
/// never throws: it fails the writes instead. Up to <c>maxWriters</c> batches are committed at once (one by default):
/// while their flushes overlap, the next writes queue up for the first writer that is done. Writes are taken in the
/// order they were queued; a caller that needs its writes committed in order waits for each before queueing the next
/// (as a run does).
/// </remarks>
/// <typeparam name="TWrite">The store's pending write, typically a <see cref="GroupCommitWrite{TResult}"/>.</typeparam>
public sealed class GroupCommitQueue<TWrite>
    where TWrite : class, IGroupCommitWrite
{
    private readonly Lock _lock = new();
    private readonly Queue<TWrite> _queue = new();
    private readonly int _maxBatchSize;
    private readonly int _maxWriters;
    private readonly Func<List<TWrite>, ValueTask> _commit;
    private int _writers;
    private long _committedBatches;

    /// <summary>Creates a queue that commits through <paramref name="commit"/>, one batch at a time.</summary>
    /// <param name="maxBatchSize">The most writes committed in one transaction (at least 1).</param>
    /// <param name="commit">Commits a batch in one transaction and completes or fails each of its writes; never throws.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBatchSize"/> is less than 1.</exception>
    public GroupCommitQueue(int maxBatchSize, Func<List<TWrite>, ValueTask> commit)
        : this(maxBatchSize, 1, commit)
    {
    }

    /// <summary>Creates a queue that commits through <paramref name="commit"/>, up to <paramref name="maxWriters"/> batches at once.</summary>
    /// <param name="maxBatchSize">The most writes committed in one transaction (at least 1).</param>
    /// <param name="maxWriters">The most batches committed at once (at least 1), each by a writer of its own.</param>
    /// <param name="commit">Commits a batch in one transaction and completes or fails each of its writes; never throws; safe to call concurrently when <paramref name="maxWriters"/> is more than 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBatchSize"/> or <paramref name="maxWriters"/> is less than 1.</exception>
    public GroupCommitQueue(int maxBatchSize, int maxWriters, Func<List<TWrite>, ValueTask> commit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxWriters, 1);
        ArgumentNullException.ThrowIfNull(commit);
        _maxBatchSize = maxBatchSize;
        _maxWriters = maxWriters;
        _commit = commit;
    }

    /// <summary>How many batches are being committed now.</summary>
    public int Writers => Volatile.Read(ref _writers);

    /// <summary>How many writes wait for the writer.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>How many batches were committed (see <see cref="Committed(List{TWrite})"/>).</summary>
    public long CommittedBatches => Interlocked.Read(ref _committedBatches);

    /// <summary>Counts a committed batch and completes its writes. The commit function calls it once the transaction committed.</summary>
    /// <param name="writes">The writes of the batch that did not fail.</param>
    public void Committed(List<TWrite> writes)
    {
        ArgumentNullException.ThrowIfNull(writes);
        Interlocked.Increment(ref _committedBatches);
        foreach (var write in writes)
        {
            write.Complete();
        }
    }

    /// <summary>Counts a committed batch of one write and completes it.</summary>
    /// <param name="write">The batch's write.</param>
    public void Committed(TWrite write)
    {
        ArgumentNullException.ThrowIfNull(write);
        Interlocked.Increment(ref _committedBatches);
        write.Complete();
    }

    /// <summary>
    /// Queues a write. When fewer batches than the most allowed are being committed, the caller becomes a writer: its
    /// batch is committed on its own thread (up to the commit function's first wait) before this returns.
    /// </summary>
    /// <param name="write">The write; the commit function completes or fails it.</param>
    public void Enqueue(TWrite write)
    {
        bool lead;
        lock (_lock)
        {
            _queue.Enqueue(write);
            lead = _writers < _maxWriters;
            if (lead)
            {
                _writers++;
            }
        }

        if (!lead)
        {
            return;
        }

        if (TakeBatch() is not { } batch)
        {
            return; // Another writer took the write meanwhile.
        }

        var commit = _commit(batch);
        if (!commit.IsCompleted)
        {
            // The commit waits (for the network, a lock): whatever queued meanwhile is committed after it, off this thread.
            _ = DrainAsync(commit);
        }
        else if (HasQueued())
        {
            // Writes that queued up meanwhile are committed on the thread pool, so the writer's caller is not held up by them.
            ThreadPool.UnsafeQueueUserWorkItem(static queue => _ = queue.DrainAsync(default), this, preferLocal: false);
        }
    }

    /// <summary>Waits for the batch being committed, if any, then commits the queued writes until none is left.</summary>
    private async Task DrainAsync(ValueTask first)
    {
        await first.ConfigureAwait(false);
        while (TakeBatch() is { } batch)
        {
            await _commit(batch).ConfigureAwait(false);
        }
    }

    /// <summary>Whether writes wait; if none does, the writer is released.</summary>
    private bool HasQueued()
    {
        lock (_lock)
        {
            if (_queue.Count == 0)
            {
                _writers--;
                return false;
            }

            return true;
        }
    }

    /// <summary>The queued writes, up to the batch size; null once the queue is empty (and the writer released).</summary>
    private List<TWrite>? TakeBatch()
    {
        lock (_lock)
        {
            if (_queue.Count == 0)
            {
                _writers--;
                return null;
            }

            var batch = new List<TWrite>(Math.Min(_queue.Count, _maxBatchSize));
            while (batch.Count < _maxBatchSize && _queue.TryDequeue(out var next))
            {
                batch.Add(next);
            }

            return batch;
        }
    }
}
