using System.Threading.Channels;
using Cairn.Storage;

namespace Cairn.Tests.Storage;

/// <summary>The group-commit queue: batching, its writers, and the order writes are taken in.</summary>
public sealed class GroupCommitQueueTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Enqueue_AloneOnAnIdleQueue_CommitsOnTheCallersThreadAtOnce()
    {
        var batches = new List<List<int>>();
        var queue = new GroupCommitQueue<Write>(64, 3, batch =>
        {
            batches.Add(batch.ConvertAll(w => w.Value));
            Complete(queue: null, batch);
            return ValueTask.CompletedTask;
        });

        var write = new Write(7);
        queue.Enqueue(write);

        Assert.True(write.Task.IsCompleted || await write.Task.WaitAsync(Timeout) == 7);
        Assert.Equal([[7]], batches);
        Assert.Equal(0, queue.Writers);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task Enqueue_WhileEveryWriterWaits_QueuesAndCommitsInOrder_WithAtMostMaxWritersAtOnce(int maxWriters)
    {
        // Each batch the queue starts waits for its gate; the test opens the gates as the batches arrive. A gate's
        // continuation runs on the thread that opens it, so a batch is committed, and its writer has taken the next batch
        // or stopped, by the time the gate is open.
        var started = Channel.CreateUnbounded<(int Count, TaskCompletionSource Gate)>();
        var batches = new List<List<int>>();
        var inFlight = 0;
        var mostInFlight = 0;
        GroupCommitQueue<Write>? queue = null;
        queue = new GroupCommitQueue<Write>(4, maxWriters, async batch =>
        {
            var gate = new TaskCompletionSource();
            lock (batches)
            {
                batches.Add(batch.ConvertAll(w => w.Value));
                mostInFlight = Math.Max(mostInFlight, ++inFlight);
            }

            started.Writer.TryWrite((batch.Count, gate));
            await gate.Task.ConfigureAwait(false);
            lock (batches)
            {
                inFlight--;
            }

            Complete(queue, batch);
        });

        var writes = Enumerable.Range(1, 10).Select(i => new Write(i)).ToList();
        foreach (var write in writes)
        {
            queue.Enqueue(write);
        }

        // The first maxWriters writes each lead a batch of one and wait; the rest queue.
        Assert.Equal(maxWriters, queue.Writers);
        Assert.Equal(10 - maxWriters, queue.Count);
        Assert.Equal(Enumerable.Range(1, maxWriters).Select(i => new List<int> { i }), batches);

        // Let every batch go, as it comes, until all ten writes are committed.
        for (var committed = 0; committed < writes.Count;)
        {
            var (count, gate) = await started.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
            gate.SetResult();
            committed += count;
        }

        await Task.WhenAll(writes.Select(w => w.Task)).WaitAsync(Timeout);
        Assert.Equal(Enumerable.Range(1, 10), batches.SelectMany(b => b).Order());
        Assert.All(batches, b => Assert.Equal(b.Order(), b)); // each batch in the order its writes were queued
        Assert.All(batches, b => Assert.InRange(b.Count, 1, 4));
        Assert.Equal(maxWriters, mostInFlight);
        Assert.Equal(batches.Count, queue.CommittedBatches);
        Assert.Equal(0, queue.Writers);
        Assert.False(started.Reader.TryRead(out _));
    }

    [Fact]
    public void Committed_OneWriteOrABatch_CompletesThemAndCountsOneBatchEach()
    {
        var queue = new GroupCommitQueue<Write>(8, _ => ValueTask.CompletedTask);
        var one = new Write(1);
        var batch = new List<Write> { new(2), new(3) };

        queue.Committed(one);
        queue.Committed(batch);

        Assert.Equal(2, queue.CommittedBatches);
        Assert.True(one.Task.IsCompletedSuccessfully);
        Assert.All(batch, w => Assert.True(w.Task.IsCompletedSuccessfully));
        Assert.Throws<ArgumentNullException>(() => queue.Committed((Write)null!));
        Assert.Throws<ArgumentNullException>(() => queue.Committed((List<Write>)null!));
    }

    [Fact]
    public void Constructor_BadSizes_AreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new GroupCommitQueue<Write>(0, 1, _ => ValueTask.CompletedTask));
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new GroupCommitQueue<Write>(1, 0, _ => ValueTask.CompletedTask));
        Assert.Equal("maxWriters", error.ParamName);
        Assert.Throws<ArgumentNullException>(() => new GroupCommitQueue<Write>(1, 1, null!));
    }

    private static void Complete(GroupCommitQueue<Write>? queue, List<Write> batch)
    {
        if (queue is null)
        {
            batch.ForEach(w => w.Complete());
        }
        else
        {
            queue.Committed(batch);
        }
    }

    private sealed class Write : GroupCommitWrite<int>
    {
        public Write(int value)
        {
            Value = value;
            Result = value;
        }

        public int Value { get; }
    }
}
