using System.Text;
using Cairn.Runs;
using Cairn.Storage;

namespace Cairn.StoreContract;

public abstract partial class RunStoreContract
{
    private static readonly TimeSpan Claim = TimeSpan.FromSeconds(30);

    private static OutboxMessage Message(RunId runId, long sequence, int index, string destination = "orders") =>
        new(StoreRules.OutboxMessageId(runId, sequence, index), runId, sequence, index, destination, Encoding.UTF8.GetBytes($"{{\"n\":{sequence}.{index}}}"));

    private static Checkpoint WithMessages(Checkpoint checkpoint, RunId runId, int count) =>
        checkpoint with { Outbox = [.. Enumerable.Range(0, count).Select(i => Message(runId, checkpoint.Sequence, i))] };

    private Task<IReadOnlyList<OutboxMessage>> ClaimOutboxAsync(string owner = NodeA, int max = 10) =>
        Store.Outbox().ClaimOutboxAsync(owner, max, Claim, Ct);

    [Fact]
    public async Task SaveCheckpointAsync_WithMessages_AddsThemPendingAndDueWithTheirIdsAndPayloads()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        await Store.SaveCheckpointAsync(claimed.Lease, WithMessages(CheckpointAt(1), run.Id, 2), keep: 3, Ct);

        var listed = await Store.Outbox().ListOutboxAsync(new OutboxQuery(), Ct);
        Assert.Equal([Message(run.Id, 1, 0).Id, Message(run.Id, 1, 1).Id], listed.Select(m => m.Id));
        var first = listed[0];
        Assert.Equal((run.Id, 1L, 0, "orders", OutboxStatus.Pending, 0), (first.RunId, first.CheckpointSequence, first.Index, first.Destination, first.Status, first.Attempts));
        Assert.Equal("{\"n\":1.0}", Encoding.UTF8.GetString(first.Payload.Span));
        Assert.Equal(Time.GetUtcNow(), first.CreatedAt);
        Assert.Equal(Time.GetUtcNow(), first.DueAt);
        Assert.Null(first.LastError);
        Assert.Empty((await Store.GetRecoveryDataAsync(run.Id, Ct)).Checkpoint!.Outbox);
    }

    [Fact]
    public async Task SaveCheckpointAsync_Fenced_AddsNoMessages()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        await Store.CancelRunAsync(run.Id, "cancelled by operator", Ct);

        await Assert.ThrowsAsync<RunOwnershipLostException>(() => Store.SaveCheckpointAsync(claimed.Lease, WithMessages(CheckpointAt(1), run.Id, 2), keep: 3, Ct));
        await Assert.ThrowsAsync<RunOwnershipLostException>(() => Store.CompleteRunAsync(claimed.Lease, Result, "done", [Message(run.Id, 2, 0)], Ct));

        Assert.Empty(await Store.Outbox().ListOutboxAsync(new OutboxQuery(), Ct));
        Assert.Empty(await ClaimOutboxAsync());
    }

    [Fact]
    public async Task CompleteRunAsync_WithMessages_AddsThemAndKeepsThemAfterTheRecoveryDataIsGone()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        await Store.SaveCheckpointAsync(claimed.Lease, WithMessages(CheckpointAt(1), run.Id, 1), keep: 3, Ct);
        await Store.CompleteRunAsync(claimed.Lease, Result, "done", [Message(run.Id, 2, 0), Message(run.Id, 2, 1)], Ct);

        var listed = await Store.Outbox().ListOutboxAsync(new OutboxQuery { RunId = run.Id }, Ct);
        Assert.Equal([(1L, 0), (2L, 0), (2L, 1)], listed.Select(m => (m.CheckpointSequence, m.Index)));
    }

    [Fact]
    public async Task ClaimOutboxAsync_ClaimsTheFirstUndeliveredMessageOfEachRunOnly_InCommitOrder()
    {
        var (first, second) = (await CreateAsync(), await CreateAsync());
        var claims = await ClaimAsync(NodeA);
        var byRun = claims.ToDictionary(c => c.Run.Id);
        await Store.SaveCheckpointAsync(byRun[first.Id].Lease, WithMessages(CheckpointAt(1), first.Id, 2), keep: 3, Ct);
        Time.Advance(TimeSpan.FromSeconds(1));
        await Store.SaveCheckpointAsync(byRun[second.Id].Lease, WithMessages(CheckpointAt(1), second.Id, 1), keep: 3, Ct);
        await Store.SaveCheckpointAsync(byRun[first.Id].Lease, WithMessages(CheckpointAt(2), first.Id, 1), keep: 3, Ct);

        var round1 = await ClaimOutboxAsync();
        Assert.Equal([Message(first.Id, 1, 0).Id, Message(second.Id, 1, 0).Id], round1.Select(m => m.Id));
        Assert.All(round1, m => Assert.Equal(1, m.Attempts));
        Assert.Empty(await ClaimOutboxAsync(NodeB));

        Assert.Equal(2, await Store.Outbox().MarkOutboxDeliveredAsync([.. round1.Select(m => m.Id)], NodeA, Ct));
        Assert.Equal([Message(first.Id, 1, 1).Id], (await ClaimOutboxAsync(NodeB)).Select(m => m.Id));
        Assert.Equal(1, await Store.Outbox().MarkOutboxDeliveredAsync([Message(first.Id, 1, 1).Id], NodeB, Ct));
        Assert.Equal([Message(first.Id, 2, 0).Id], (await ClaimOutboxAsync(NodeB)).Select(m => m.Id));
    }

    [Fact]
    public async Task ClaimOutboxAsync_RespectsTheLimit()
    {
        var runs = new List<RunRecord> { await CreateAsync(), await CreateAsync(), await CreateAsync() };
        foreach (var claimed in await ClaimAsync(NodeA))
        {
            await Store.SaveCheckpointAsync(claimed.Lease, WithMessages(CheckpointAt(1), claimed.Run.Id, 1), keep: 3, Ct);
        }

        Assert.Equal(2, (await ClaimOutboxAsync(max: 2)).Count);
        Assert.Single(await ClaimOutboxAsync(max: 2));
        Assert.Empty(await ClaimOutboxAsync(max: 2));
        Assert.Equal(3, runs.Count);
    }

    [Fact]
    public async Task ClaimOutboxAsync_AfterTheClaimExpired_ClaimsTheMessageAgainForAnotherDispatcher()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        await Store.SaveCheckpointAsync(claimed.Lease, WithMessages(CheckpointAt(1), run.Id, 1), keep: 3, Ct);
        var lost = Assert.Single(await ClaimOutboxAsync(NodeA));

        Time.Advance(Claim - TimeSpan.FromSeconds(1));
        Assert.Empty(await ClaimOutboxAsync(NodeB));
        Time.Advance(TimeSpan.FromSeconds(2));
        var again = Assert.Single(await ClaimOutboxAsync(NodeB));

        Assert.Equal(lost.Id, again.Id);
        Assert.Equal(2, again.Attempts);
        Assert.Equal(0, await Store.Outbox().MarkOutboxDeliveredAsync([lost.Id], NodeA, Ct));
        Assert.False(await Store.Outbox().MarkOutboxFailedAsync(lost.Id, NodeA, "late", Time.GetUtcNow(), Ct));
        Assert.Equal(1, await Store.Outbox().MarkOutboxDeliveredAsync([lost.Id], NodeB, Ct));
        Assert.Empty(await Store.Outbox().ListOutboxAsync(new OutboxQuery(), Ct));
    }

    [Fact]
    public async Task MarkOutboxFailedAsync_WithARetryTime_MakesTheMessageDueThenAndKeepsItsError_AndBlocksLaterMessagesOfItsRun()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        await Store.SaveCheckpointAsync(claimed.Lease, WithMessages(CheckpointAt(1), run.Id, 2), keep: 3, Ct);
        var message = Assert.Single(await ClaimOutboxAsync());
        var retryAt = Time.GetUtcNow() + TimeSpan.FromMinutes(1);

        Assert.True(await Store.Outbox().MarkOutboxFailedAsync(message.Id, NodeA, "broker down", retryAt, Ct));

        var listed = await Store.Outbox().ListOutboxAsync(new OutboxQuery { Status = OutboxStatus.Pending }, Ct);
        Assert.Equal((OutboxStatus.Pending, retryAt, "broker down", 1), (listed[0].Status, listed[0].DueAt, listed[0].LastError, listed[0].Attempts));
        Assert.Empty(await ClaimOutboxAsync());
        Time.Advance(TimeSpan.FromMinutes(1));
        var retried = Assert.Single(await ClaimOutboxAsync());
        Assert.Equal((message.Id, 2), (retried.Id, retried.Attempts));
    }

    [Fact]
    public async Task MarkOutboxFailedAsync_WithoutARetryTime_DeadLettersTheMessage_LaterOnesOfItsRunGoOn_AndRedriveBringsItBack()
    {
        var run = await CreateAsync();
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        await Store.SaveCheckpointAsync(claimed.Lease, WithMessages(CheckpointAt(1), run.Id, 2), keep: 3, Ct);
        var message = Assert.Single(await ClaimOutboxAsync());

        Assert.True(await Store.Outbox().MarkOutboxFailedAsync(message.Id, NodeA, "rejected: bad payload", null, Ct));

        var dead = Assert.Single(await Store.Outbox().ListOutboxAsync(new OutboxQuery { Status = OutboxStatus.DeadLettered }, Ct));
        Assert.Equal((message.Id, "rejected: bad payload"), (dead.Id, dead.LastError));
        Assert.Equal([Message(run.Id, 1, 1).Id], (await ClaimOutboxAsync()).Select(m => m.Id));

        Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1, await Store.Outbox().RedriveOutboxAsync(null, Ct));
        Assert.Equal(0, await Store.Outbox().RedriveOutboxAsync([message.Id], Ct));
        var redriven = Assert.Single(await Store.Outbox().ListOutboxAsync(new OutboxQuery { RunId = run.Id, Status = OutboxStatus.Pending, Limit = 1 }, Ct));
        Assert.Equal((message.Id, 0, (string?)null, Time.GetUtcNow()), (redriven.Id, redriven.Attempts, redriven.LastError, redriven.DueAt));
    }

    [Fact]
    public async Task RedriveOutboxAsync_ByIds_RedrivesOnlyThoseDeadLetteredMessages()
    {
        var (first, second) = (await CreateAsync(), await CreateAsync());
        foreach (var claimed in await ClaimAsync(NodeA))
        {
            await Store.SaveCheckpointAsync(claimed.Lease, WithMessages(CheckpointAt(1), claimed.Run.Id, 1), keep: 3, Ct);
        }

        foreach (var message in await ClaimOutboxAsync())
        {
            Assert.True(await Store.Outbox().MarkOutboxFailedAsync(message.Id, NodeA, "gone", null, Ct));
        }

        Assert.Equal(1, await Store.Outbox().RedriveOutboxAsync([Message(second.Id, 1, 0).Id], Ct));

        var dead = Assert.Single(await Store.Outbox().ListOutboxAsync(new OutboxQuery { Status = OutboxStatus.DeadLettered }, Ct));
        Assert.Equal(first.Id, dead.RunId);
        Assert.Equal(second.Id, Assert.Single(await ClaimOutboxAsync()).RunId);
    }

    [Fact]
    public async Task PurgeAsync_DeletesTheOutboxMessagesOfPurgedRunsOnly()
    {
        var (old, kept) = (await CreateAsync(), await CreateAsync());
        var claims = (await ClaimAsync(NodeA)).ToDictionary(c => c.Run.Id);
        await Store.SaveCheckpointAsync(claims[kept.Id].Lease, WithMessages(CheckpointAt(1), kept.Id, 1), keep: 3, Ct);
        await Store.CompleteRunAsync(claims[old.Id].Lease, Result, "done", [Message(old.Id, 1, 0)], Ct);
        Time.Advance(TimeSpan.FromDays(2));

        Assert.Equal(1, await Store.PurgeAsync(Time.GetUtcNow() - TimeSpan.FromDays(1), Ct));

        Assert.Equal([kept.Id], (await Store.Outbox().ListOutboxAsync(new OutboxQuery(), Ct)).Select(m => m.RunId));
    }
}
