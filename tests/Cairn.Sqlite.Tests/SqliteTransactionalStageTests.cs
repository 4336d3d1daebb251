using System.Data.Common;
using Cairn.Flows;
using Cairn.Runs;
using Microsoft.Data.Sqlite;

namespace Cairn.Sqlite.Tests;

/// <summary>
/// Transactional stages and transactional compensations in an engine on a real SQLite file: the application's tables
/// live in the store's own file, and their writes commit with the checkpoint that follows, or roll back with a failure.
/// </summary>
public sealed class SqliteTransactionalStageTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly TemporaryDatabase _database = new();
    private int _payments;

    public async Task InitializeAsync()
    {
        await using var connection = Open();
        await using var create = connection.CreateCommand();
        // No unique constraints: a write that happened twice shows as two rows.
        create.CommandText = "CREATE TABLE app_orders (order_id TEXT NOT NULL, released INTEGER NOT NULL DEFAULT 0); CREATE TABLE app_releases (order_id TEXT NOT NULL);";
        await create.ExecuteNonQueryAsync();
    }

    public Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        _database.Delete();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task ATransactionalStage_CommitsWithItsRecoveryPoint_AndNeverRunsAgainAfterIt()
    {
        var failures = 1;
        var flow = Flow.Create<string>("shop")
            .TransactionalStage("save", (c, transaction, ct) => ExecuteAsync(transaction, $"INSERT INTO app_orders (order_id) VALUES ('{c.State}')", ct))
            .RecoveryPoint("saved")
            .Stage("fail-once", (c, _) => failures-- > 0 ? throw new IOException("network") : Task.CompletedTask)
            .Retry(p => p with { Interval = TimeSpan.FromMilliseconds(10) })
            .Build();

        var outcome = await RunAsync(flow);

        Assert.Equal((RunStatus.Completed, 2), outcome);
        Assert.Equal(1, await CountAsync("SELECT COUNT(*) FROM app_orders WHERE order_id = 'order-1'"));
    }

    [Fact]
    public async Task ATransactionalStageThatThrows_RollsBackItsWrites_AndItsRetryWritesOnce()
    {
        var failures = 1;
        var flow = Flow.Create<string>("shop")
            .TransactionalStage("save", async (c, transaction, ct) =>
            {
                await ExecuteAsync(transaction, $"INSERT INTO app_orders (order_id) VALUES ('{c.State}')", ct);
                if (failures-- > 0)
                {
                    throw new IOException("stock service down");
                }
            })
            .RecoveryPoint("saved")
            .Stage("finish", (c, _) => Task.CompletedTask)
            .Retry(p => p with { Interval = TimeSpan.FromMilliseconds(10) })
            .Build();

        var outcome = await RunAsync(flow);

        Assert.Equal((RunStatus.Completed, 2), outcome);
        Assert.Equal(1, await CountAsync("SELECT COUNT(*) FROM app_orders"));
    }

    [Fact]
    public async Task ATransactionalCompensation_CommitsWithTheCheckpointThatRecordsItDone_AndRollsBackAFailedTry()
    {
        var compensationFailures = 1;
        var flow = Flow.Create<string>("shop")
            .TransactionalStage("reserve", (c, transaction, ct) => ExecuteAsync(transaction, $"INSERT INTO app_orders (order_id) VALUES ('{c.State}')", ct))
            .CompensateInTransaction(
                async (c, transaction, ct) =>
                {
                    await ExecuteAsync(transaction, $"UPDATE app_orders SET released = 1 WHERE order_id = '{c.State}'; INSERT INTO app_releases (order_id) VALUES ('{c.State}')", ct);
                    if (compensationFailures-- > 0)
                    {
                        throw new IOException("lock timeout");
                    }
                },
                RetryPolicy.Default with { Interval = TimeSpan.FromMilliseconds(10) })
            .RecoveryPoint("reserved")
            .Stage("pay", (c, _) =>
            {
                _payments++;
                throw new InvalidOperationException("card declined");
            })
            .Retry(p => p with { MaxRetries = 0 })
            .Build();

        var outcome = await RunAsync(flow);

        Assert.Equal((RunStatus.Compensated, 2), outcome);
        Assert.Equal(1, _payments);
        Assert.Equal(1, await CountAsync("SELECT COUNT(*) FROM app_releases"));
        Assert.Equal(1, await CountAsync("SELECT COUNT(*) FROM app_orders WHERE released = 1"));
    }

    /// <summary>Runs the flow to its end; returns its status and how many attempts it took.</summary>
    private async Task<(RunStatus Status, int Attempt)> RunAsync(Flow<string> flow)
    {
        await using var engine = CairnEngine.CreateBuilder().UseSqlite(_database.Path).AddFlow(flow).Build();
        await engine.StartAsync();
        var run = await engine.StartRunAsync(flow, "order-1", "order-1");
        var outcome = await engine.WaitForRunAsync(flow, run.Id).WaitAsync(Patience);
        var info = await engine.Operator.GetRunAsync(run.Id);
        return (outcome.Status, info!.Attempt);
    }

    private static async Task ExecuteAsync(DbTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = transaction.Connection!.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<long> CountAsync(string sql)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection($"Data Source={_database.Path};Pooling=False");
        connection.Open();
        return connection;
    }
}
