using Cairn.Flows;
using Cairn.Runs;

namespace Cairn.Postgres.Tests;

/// <summary>
/// A transactional stage whose connection to the store's database drops under it (found by the chaos soak, seed 1515:
/// <c>pg_terminate_backend</c> hit a node's connection while its <c>record</c> stage ran). The store failed, not the
/// stage: the attempt is tried again without using up one of the run's retries.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresStageConnectionTests(PostgresCluster cluster) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly string _schema = cluster.NewSchema("stageconn");

    public Task InitializeAsync() => cluster.ExecuteAsync($"CREATE SCHEMA \"{_schema}_app\"; CREATE TABLE \"{_schema}_app\".effects (attempt integer NOT NULL)");

    public async Task DisposeAsync()
    {
        await cluster.DropSchemaAsync(_schema);
        await cluster.DropSchemaAsync($"{_schema}_app");
    }

    [Fact]
    public async Task TransactionalStage_ItsConnectionTerminatedInTheFirstAttempt_RetriedWithoutUsingARetryAndTheEffectCommittedOnce()
    {
        var flow = Flow.Create<List<int>>("stage-connection")
            .TransactionalStage("record", async (context, transaction, ct) =>
            {
                await using var insert = transaction.Connection!.CreateCommand();
                insert.Transaction = transaction;
                insert.CommandText = $"INSERT INTO \"{_schema}_app\".effects (attempt) VALUES ({context.Recovery.Attempt})";
                await insert.ExecuteNonQueryAsync(ct);
                if (context.Recovery.Attempt == 1)
                {
                    // The server ends this very connection, as pg_terminate_backend from elsewhere or a restart would.
                    await using var terminate = transaction.Connection.CreateCommand();
                    terminate.Transaction = transaction;
                    terminate.CommandText = "SELECT pg_terminate_backend(pg_backend_pid())";
                    await terminate.ExecuteNonQueryAsync(ct);
                }

                context.State.Add(context.Recovery.Attempt);
            })
            .RecoveryPoint("recorded")
            .Stage("done", (_, _) => Task.CompletedTask)
            // No retry to use up: a stage failure would fail the run for good.
            .Retry(new RetryPolicy { MaxRetries = 0, Interval = TimeSpan.FromMilliseconds(100) })
            .Build();
        await using var engine = CairnEngine.CreateBuilder()
            .UsePostgres(cluster.ConnectionString, options => options.Schema = _schema)
            .Configure(o => o.PollInterval = TimeSpan.FromMilliseconds(100))
            .AddFlow(flow)
            .Build();

        var outcome = await engine.RunAsync(flow, [], "terminated-1").WaitAsync(Timeout);

        Assert.True(outcome.Status == RunStatus.Completed, $"{outcome.Status}: {outcome.Error}");
        Assert.Equal([2], outcome.Result);
        var events = await engine.Store.GetEventsAsync(outcome.RunId, CancellationToken.None);
        Assert.Contains(events, e => e.Kind == RunEventKind.RetryScheduled && e.Message.Contains("does not use up a retry", StringComparison.Ordinal));
        Assert.Equal([2], await AttemptsWithEffectsAsync());
    }

    private async Task<List<int>> AttemptsWithEffectsAsync()
    {
        await using var command = cluster.DataSource.CreateCommand($"SELECT attempt FROM \"{_schema}_app\".effects ORDER BY attempt");
        await using var reader = await command.ExecuteReaderAsync();
        var attempts = new List<int>();
        while (await reader.ReadAsync())
        {
            attempts.Add(reader.GetInt32(0));
        }

        return attempts;
    }
}
