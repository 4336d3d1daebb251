using Cairn.Flows;
using Cairn.Runs;
using Cairn.Serialization;
using Cairn.Sqlite;
using Microsoft.Data.Sqlite;

namespace Cairn.Sqlite.Tests;

/// <summary>A checkpoint damaged on disk is quarantined: its run fails for good with a clear reason, is re-run around it, and other runs go on.</summary>
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
                context.State.Value += 10;
                return Task.CompletedTask;
            })
            .RecoveryPoint("after-second", "second done")
            .Stage("third", async (context, _) =>
            {
                // Damages the checkpoint at 'after-second' on disk and fails, so that the retry resumes from the damage.
                if (context.State.DamageOnFirstAttempt && context.Recovery.Attempt == 1)
                {
                    await FlipOneByteOfCheckpointAsync(context.RunId, sequence: 2);
                    throw new InvalidOperationException("downstream system unavailable");
                }

                context.State.Value += 100;
            })
            .Retry(new RetryPolicy { MaxRetries = 3, Interval = TimeSpan.FromMilliseconds(100) })
            .Build();
    }

    public Task InitializeAsync()
    {
        _engine = CairnEngine.CreateBuilder()
            .UseSqlite(_path)
            .AddFlow(_flow)
            .Configure(o =>
            {
                o.PollInterval = TimeSpan.FromMilliseconds(50);
                o.CheckpointsToKeep = 2;
            })
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
    public async Task Resume_CheckpointDamagedOnDisk_QuarantinesItAndLeavesOtherRunsUntouched()
    {
        var damaged = await _engine.RunAsync(_flow, new Counter { DamageOnFirstAttempt = true }, "damaged").WaitAsync(TimeSpan.FromSeconds(30));
        var healthy = await _engine.RunAsync(_flow, new Counter(), "healthy").WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(RunStatus.Failed, damaged.Status);
        var run = (await _engine.Store.GetRunAsync(damaged.RunId, CancellationToken.None))!;
        Assert.Equal(1, run.RetriesUsed); // The first failure's retry: the quarantine uses none of the others.
        Assert.Contains($"Run {damaged.RunId} is quarantined: its checkpoint 2 at recovery point 'after-second'", damaged.Error, StringComparison.Ordinal);
        Assert.Contains($"in the SQLite database '{_path}' is corrupt: its checksum does not match its data", damaged.Error, StringComparison.Ordinal);
        var events = await _engine.Operator.GetEventsAsync(damaged.RunId);
        Assert.Contains("quarantined", events[^1].Message, StringComparison.Ordinal);
        var kept = await _engine.Store.GetRecoveryDataAsync(damaged.RunId, CancellationToken.None);
        Assert.Equal("after-second", kept.Checkpoint!.RecoveryPoint);

        Assert.Equal(RunStatus.Completed, healthy.Status);
        Assert.Equal(111, healthy.Result!.Value);
    }

    [Fact]
    public async Task Rerun_QuarantinedCheckpointOnDisk_RefusesPlainRerunAndCompletesFromTheEarlierCheckpoint()
    {
        var damaged = await _engine.RunAsync(_flow, new Counter { DamageOnFirstAttempt = true }, "damaged").WaitAsync(TimeSpan.FromSeconds(30));
        var shown = await _engine.Operator.GetRunAsync(damaged.RunId);
        var checkpoints = await _engine.Operator.GetCheckpointsAsync(damaged.RunId);

        var refused = await Assert.ThrowsAsync<CheckpointCorruptedException>(() => _engine.RerunAsync(damaged.RunId));
        await _engine.RerunAsync(damaged.RunId, new RerunOptions { CheckpointSequence = 1 });
        var rerun = await _engine.WaitForRunAsync(_flow, damaged.RunId).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(shown!.IsQuarantined);
        Assert.Equal([2L, 1L], checkpoints.Select(c => c.Sequence));
        Assert.Contains($"Run {damaged.RunId} cannot be re-run from there: its last recovery point 'after-second' (checkpoint 2) is corrupt", refused.Message, StringComparison.Ordinal);
        Assert.Contains($"Re-run it from an earlier kept checkpoint instead — #1 'after-first' — with RerunOptions.CheckpointSequence (cairn runs rerun {damaged.RunId} --from #1)", refused.Message, StringComparison.Ordinal);
        Assert.Equal(RunStatus.Completed, rerun.Status);
        Assert.Equal(111, rerun.Result!.Value);

        var fresh = await _engine.RunAsync(_flow, new Counter { Value = 1000 }, "fresh").WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1111, fresh.Result!.Value);
    }

    /// <summary>Flips one byte of a checkpoint's state with a raw UPDATE, as a bad disk would.</summary>
    private async Task FlipOneByteOfCheckpointAsync(RunId runId, long sequence)
    {
        await using var connection = new SqliteConnection($"Data Source={_path};Pooling=False");
        await connection.OpenAsync();
        await using var read = connection.CreateCommand();
        read.CommandText = "SELECT state FROM checkpoints WHERE run_id = $run AND sequence = $sequence";
        read.Parameters.AddWithValue("$run", runId.ToString());
        read.Parameters.AddWithValue("$sequence", sequence);
        var state = (byte[])(await read.ExecuteScalarAsync())!;
        state[^2] ^= 0x01;
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE checkpoints SET state = $state WHERE run_id = $run AND sequence = $sequence";
        command.Parameters.AddWithValue("$state", state);
        command.Parameters.AddWithValue("$run", runId.ToString());
        command.Parameters.AddWithValue("$sequence", sequence);
        var changed = await command.ExecuteNonQueryAsync();
        Assert.Equal(1, changed);
    }

    public sealed class Counter
    {
        public int Value { get; set; }

        public bool DamageOnFirstAttempt { get; set; }
    }
}
