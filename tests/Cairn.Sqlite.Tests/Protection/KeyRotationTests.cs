using Cairn.Flows;
using Cairn.Runs;
using Cairn.Serialization.Protection;
using Cairn.Sqlite;
using Microsoft.Data.Sqlite;

namespace Cairn.Sqlite.Tests.Protection;

/// <summary>
/// A run whose input and checkpoint were written under key 1 is resumed by an engine whose current key is 2: it reads
/// them with key 1 and finishes; an engine without key 1 fails the run with a message naming that key. (The SQLite
/// store does not keep checkpoints' stream manifests yet, so streams across engines are tested on the in-memory store.)
/// </summary>
public sealed class KeyRotationTests : IDisposable
{
    private static readonly CheckpointKey Key1 = new("key-1", Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
    private static readonly CheckpointKey Key2 = new("key-2", Enumerable.Range(101, 32).Select(i => (byte)i).ToArray());
    private readonly TemporaryDatabase _database = new();
    private int _attempts;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _database.Delete();
    }

    private Flow<List<string>> FailsOnceAfterItsRecoveryPoint() =>
        Flow.Create<List<string>>("rotation")
            .Retry(p => p with { MaxRetries = 1, Interval = TimeSpan.FromSeconds(2) })
            .Stage("put", (context, _) =>
            {
                context.State.Add("put under the first key");
                return Task.CompletedTask;
            })
            .RecoveryPoint("put-done")
            .Stage("finish", (context, _) =>
            {
                if (Interlocked.Increment(ref _attempts) == 1)
                {
                    throw new InvalidOperationException("the first attempt fails");
                }

                context.State.Add("finished under the second key");
                return Task.CompletedTask;
            })
            .Build();

    private CairnEngine Engine(Flow<List<string>> flow, params CheckpointKey[] keys) =>
        CairnEngine.CreateBuilder().UseSqlite(_database.Path).UseEncryption(new CheckpointKeyRing(keys)).AddFlow(flow).Build();

    private async Task<RunId> LeaveWaitingForRetryUnderKey1Async(Flow<List<string>> flow)
    {
        await using var engine = Engine(flow, Key1);
        var run = await engine.StartRunAsync(flow, ["input"]);
        await WaitForAsync(engine, run.Id, RunStatus.WaitingForRetry);
        return run.Id;
    }

    // Woken by the engine's own run-change signal, not by polling.
    private static async Task<Cairn.Storage.RunRecord> WaitForAsync(CairnEngine engine, RunId runId, RunStatus status)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            return await engine.WaitForAsync(runId, r => r.Status == status, timeout.Token);
        }
        catch (OperationCanceledException)
        {
            var run = (await engine.Operator.GetRunAsync(runId))!;
            throw new Xunit.Sdk.XunitException($"run {runId} is {run.Status}, not {status}; last error: {run.LastError}");
        }
    }

    [Fact]
    public async Task Resume_AfterRotatingToKey2_ReadsTheInputAndCheckpointWrittenUnderKey1()
    {
        var flow = FailsOnceAfterItsRecoveryPoint();
        var runId = await LeaveWaitingForRetryUnderKey1Async(flow);

        await using var rotated = Engine(flow, Key1, Key2);
        await rotated.StartAsync();
        var outcome = await rotated.WaitForRunAsync(flow, runId).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(["input", "put under the first key", "finished under the second key"], outcome.Result);
    }

    [Fact]
    public async Task Resume_WithoutKey1_FailsTheRunNamingTheKey()
    {
        var flow = FailsOnceAfterItsRecoveryPoint();
        var runId = await LeaveWaitingForRetryUnderKey1Async(flow);

        await using var withoutKey1 = Engine(flow, Key2);
        await withoutKey1.StartAsync();
        var run = await WaitForAsync(withoutKey1, runId, RunStatus.Failed);

        Assert.Contains("CheckpointCorruptedException", run.LastError, StringComparison.Ordinal);
        Assert.Contains("key 'key-1', which the key provider does not know", run.LastError, StringComparison.Ordinal);
    }
}
