using Cairn.Flows;
using Cairn.Runs;
using Cairn.Storage;

namespace Cairn.Postgres.Tests;

/// <summary>
/// A database that goes away and comes back. Runs on a throwaway cluster of its own, since it stops the server.
/// </summary>
public sealed class PostgresUnavailableTests : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private PostgresServer? _server;

    private PostgresServer Server => _server!;

    public async Task InitializeAsync() => _server = await PostgresServer.StartNewAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Operations_DatabaseStopped_ThrowStoreUnavailableAndWorkAgainAfterRestart()
    {
        await using var store = new PostgresRunStore(new PostgresStoreOptions { ConnectionString = Server.ConnectionString() });
        await store.InitializeAsync(Ct);
        var run = (await store.CreateRunAsync(NewRun("before"), Ct)).Run;
        var claimed = Assert.Single(await store.ClaimDueRunsAsync(new ClaimRequest("node", ["orders"], 1, TimeSpan.FromMinutes(5)), Ct));
        await store.SaveCheckpointAsync(claimed.Lease, Checkpoint(1), 3, Ct);

        await Server.StopAsync();

        var read = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.GetRunAsync(run.Id, Ct));
        Assert.Contains($"'postgres' on 127.0.0.1:{Server.Port}", read.Message, StringComparison.Ordinal);
        var write = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.SaveCheckpointAsync(claimed.Lease, Checkpoint(2), 3, Ct));
        Assert.Contains($"127.0.0.1:{Server.Port}", write.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<StoreUnavailableException>(() => store.CreateRunAsync(NewRun("while-down"), Ct));
        await Assert.ThrowsAsync<StoreUnavailableException>(() => store.InitializeAsync(Ct));

        await Server.StartAsync();

        var after = await store.GetRunAsync(run.Id, Ct);
        Assert.Equal((RunStatus.Running, 1L), (after!.Status, after.CheckpointSequence));
        await store.SaveCheckpointAsync(claimed.Lease, Checkpoint(2), 3, Ct);
        Assert.Equal(2, (await store.GetRecoveryDataAsync(run.Id, Ct)).Checkpoint?.Sequence);
        Assert.True((await store.CreateRunAsync(NewRun("after"), Ct)).Created);
        Assert.Null(await store.FindRunAsync("orders", "while-down", Ct));
    }

    [Fact]
    public async Task StageTransactionsAndOutbox_DatabaseStopped_ThrowStoreUnavailable_AndNothingOfTheStageIsCommitted()
    {
        await using var store = new PostgresRunStore(new PostgresStoreOptions { ConnectionString = Server.ConnectionString() });
        await store.InitializeAsync(Ct);
        var run = (await store.CreateRunAsync(NewRun("stage"), Ct)).Run;
        var claimed = Assert.Single(await store.ClaimDueRunsAsync(new ClaimRequest("node", ["orders"], 1, TimeSpan.FromMinutes(5)), Ct));
        var transaction = await store.BeginStageTransactionAsync(claimed.Lease, Ct);

        await Server.StopAsync();

        await Assert.ThrowsAsync<StoreUnavailableException>(() => transaction.CommitAsync(Checkpoint(1), 3, Ct));
        await transaction.DisposeAsync();
        await Assert.ThrowsAsync<StoreUnavailableException>(() => store.BeginStageTransactionAsync(claimed.Lease, Ct));
        await Assert.ThrowsAsync<StoreUnavailableException>(() => store.ClaimOutboxAsync("node", 10, TimeSpan.FromMinutes(1), Ct));
        await Assert.ThrowsAsync<StoreUnavailableException>(() => store.ListOutboxAsync(new OutboxQuery(), Ct));

        await Server.StartAsync();

        Assert.Equal(0, (await store.GetRunAsync(run.Id, Ct))!.CheckpointSequence);
        await using var again = await store.BeginStageTransactionAsync(claimed.Lease, Ct);
        await again.CommitAsync(Checkpoint(1), 3, Ct);
        Assert.Equal(1, (await store.GetRunAsync(run.Id, Ct))!.CheckpointSequence);
    }

    [Fact]
    public async Task Streams_DatabaseStopped_ThrowStoreUnavailableNamingTheDatabase_AndAnOpenStreamReadsOnOnceItIsBack()
    {
        await using var store = new PostgresRunStore(new PostgresStoreOptions { ConnectionString = Server.ConnectionString() });
        await store.InitializeAsync(Ct);
        var content = new byte[3 * 1024 * 1024];
        new Random(3).NextBytes(content);
        var stored = await store.WriteAsync(new MemoryStream(content), Ct);
        await using var open = await store.OpenReadAsync(stored, Ct);
        var read = new MemoryStream();
        var buffer = new byte[1024 * 1024];
        read.Write(buffer, 0, await open.ReadAsync(buffer, Ct));

        await Server.StopAsync();

        var write = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.WriteAsync(new MemoryStream(content), Ct));
        Assert.Contains($"'postgres' on 127.0.0.1:{Server.Port} cannot be reached", write.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<StoreUnavailableException>(() => store.OpenReadAsync(stored, Ct));
        await Assert.ThrowsAsync<StoreUnavailableException>(async () => _ = await open.ReadAsync(buffer, Ct));
        await Assert.ThrowsAsync<StoreUnavailableException>(() => store.TouchAsync(stored, Ct));
        await Assert.ThrowsAsync<StoreUnavailableException>(() => store.DeleteAsync(stored, DateTimeOffset.UtcNow, Ct));
        await Assert.ThrowsAsync<StoreUnavailableException>(() => store.GetReferencedStreamsAsync(Ct));
        await Assert.ThrowsAsync<StoreUnavailableException>(async () => await store.ListUntouchedAsync(DateTimeOffset.UtcNow, Ct).GetAsyncEnumerator().MoveNextAsync());

        await Server.StartAsync();

        await open.CopyToAsync(read, Ct);
        Assert.Equal(content, read.ToArray());
        Assert.True(await store.TouchAsync(stored, Ct));
    }

    [Fact]
    public async Task InitializeAsync_NothingListening_ThrowsStoreUnavailableNamingHostAndPort()
    {
        var port = Server.Port == 1 ? 2 : 1;
        await using var store = new PostgresRunStore(new PostgresStoreOptions { ConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=nowhere;Timeout=5" });

        var error = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.InitializeAsync(Ct));

        Assert.Contains($"'nowhere' on 127.0.0.1:{port} cannot be reached", error.Message, StringComparison.Ordinal);
    }

    private static NewRun NewRun(string recoveryId) => new(RunId.New(), "orders", 1, recoveryId, new byte[] { 1 }, "c", "{}");

    private static Checkpoint Checkpoint(long sequence) => new(sequence, FlowPath.Of((int)sequence), $"point-{sequence}", null, new byte[] { 7 }, "c");
}
