using Cairn.Flows;
using Cairn.Runs;
using Cairn.Sqlite;
using Microsoft.Data.Sqlite;

namespace Cairn.Sqlite.Tests;

/// <summary>A checkpoint damaged on disk fails its own run with a clear reason; the engine and other runs go on.</summary>
public sealed class CheckpointCorruptionTests : IAsyncLifetime
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"cairn-corrupt-{Guid.NewGuid():N}.db");
    private readonly Flow<Counter> _flow;
    private CairnEngine _engine = null!;

    public CheckpointCorruptionTests()
    {
        _flow = Flow.Create<Counter>("corruptible")
            .Stage("first", (context, _) =>
            {
                context.State.Value += 1;
                return Task.CompletedTask;
            })
            .RecoveryPoint("after-first", "first done")
            .Stage("second", (context, _) =>
            {
                // Fails on the first attempt so that the run stops with a checkpoint at 'after-first'.
                if (context.State.FailFirstAttempt && context.Recovery.Attempt == 1)
                {
                    throw new InvalidOperationException("downstream system unavailable");
                }

                context.State.Value += 10;
                return Task.CompletedTask;
            })
            .Retry(RetryPolicy.None)
            .Build();
    }

    public Task InitializeAsync()
    {
        _engine = CairnEngine.CreateBuilder()
            .UseSqlite(_path)
            .AddFlow(_flow)
            .Configure(o => o.PollInterval = TimeSpan.FromMilliseconds(50))
            .Build();
        return _engine.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _engine.DisposeAsync();
        SqliteConnection.ClearAllPools();
        foreach (var file in new[] { _path, _path + "-wal", _path + "-shm", _path + ".lock" })
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Rerun_CheckpointDamagedOnDisk_FailsThatRunWithClearReasonAndLeavesOthersUntouched()
    {
        var damaged = await _engine.RunAsync(_flow, new Counter { FailFirstAttempt = true }, "damaged").WaitAsync(TimeSpan.FromSeconds(30));
        var healthy = await _engine.RunAsync(_flow, new Counter { FailFirstAttempt = true }, "healthy").WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(RunStatus.Failed, damaged.Status);
        Assert.Equal(RunStatus.Failed, healthy.Status);

        await FlipOneByteOfCheckpointAsync(damaged.RunId);
        await _engine.RerunAsync(damaged.RunId);
        await _engine.RerunAsync(healthy.RunId);
        var damagedAgain = await _engine.WaitForRunAsync(_flow, damaged.RunId).WaitAsync(TimeSpan.FromSeconds(30));
        var healthyAgain = await _engine.WaitForRunAsync(_flow, healthy.RunId).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(RunStatus.Failed, damagedAgain.Status);
        Assert.Contains("corrupt", damagedAgain.Error, StringComparison.Ordinal);
        Assert.Contains("'after-first'", damagedAgain.Error, StringComparison.Ordinal);
        Assert.Contains(damaged.RunId.ToString(), damagedAgain.Error, StringComparison.Ordinal);
        var kept = await _engine.Store.GetRecoveryDataAsync(damaged.RunId, CancellationToken.None);
        Assert.NotNull(kept.Checkpoint);
        Assert.Equal("after-first", kept.Checkpoint.RecoveryPoint);

        Assert.Equal(RunStatus.Completed, healthyAgain.Status);
        Assert.Equal(11, healthyAgain.Result!.Value);

        var fresh = await _engine.RunAsync(_flow, new Counter { Value = 100 }, "fresh").WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(RunStatus.Completed, fresh.Status);
        Assert.Equal(111, fresh.Result!.Value);
    }

    private async Task FlipOneByteOfCheckpointAsync(RunId runId)
    {
        var data = await _engine.Store.GetRecoveryDataAsync(runId, CancellationToken.None);
        var state = data.Checkpoint!.State.ToArray();
        state[^2] ^= 0x01;
        await using var connection = new SqliteConnection($"Data Source={_path};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE checkpoints SET state = $state WHERE run_id = $run";
        command.Parameters.AddWithValue("$state", state);
        command.Parameters.AddWithValue("$run", runId.ToString());
        var changed = await command.ExecuteNonQueryAsync();
        Assert.Equal(1, changed);
    }

    public sealed class Counter
    {
        public int Value { get; set; }

        public bool FailFirstAttempt { get; set; }
    }
}
