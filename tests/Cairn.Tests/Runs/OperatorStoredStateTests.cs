using System.Security.Cryptography;
using System.Text;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Serialization.Protection;
using Cairn.Tests.Support;
using Xunit.Abstractions;

namespace Cairn.Tests.Runs;

/// <summary>
/// The engine's operator API reads and writes states as its runs do: a spilled state read back from the stream store, an
/// encrypted one decrypted for the operator, and an edited state stored encrypted.
/// </summary>
public sealed class OperatorStoredStateTests(ITestOutputHelper output) : EngineTest(output)
{
    private static readonly CheckpointKeyRing Keys = new(new CheckpointKey("2026-12", RandomNumberGenerator.GetBytes(32)));

    private static Flow<TestState> FailingFlow(string payload, Task? resumed = null) => Flow.Create<TestState>("imports")
        .Retry(RetryPolicy.None)
        .Stage("load", (c, _) =>
        {
            c.State.Payload = payload;
            return Task.CompletedTask;
        })
        .RecoveryPoint("loaded")
        .Stage("insert", (c, ct) => c.State.Value == 0 ? throw new InvalidOperationException("the database went away") : (resumed ?? Task.CompletedTask).WaitAsync(ct))
        .Build();

    private static string Text(ReadOnlyMemory<byte> bytes) => Encoding.UTF8.GetString(bytes.Span);

    [Fact]
    public async Task ASpilledCheckpoint_IsShownWithItsState()
    {
        var payload = new string('r', 40_000);
        var flow = FailingFlow(payload);
        var engine = CreateEngine(flow, o => o.StateSpillThreshold = 20_000);
        var failed = await Within(engine.RunAsync(flow, new TestState()));

        var latest = await engine.Operator.GetLatestCheckpointAsync(failed.RunId);

        Assert.True((await Store.GetRecoveryDataAsync(failed.RunId, Ct)).Checkpoint!.State.IsEmpty);
        Assert.True(latest!.ChecksumMatches);
        Assert.Contains(payload, Text(latest.State), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnEncryptedCheckpoint_IsShownDecrypted_AndAnEditedStateIsStoredEncrypted()
    {
        var gate = NewGate();
        var flow = FailingFlow("secret order 42", gate.Task);
        var engine = CreateEngine(flow, build: b => b.UseEncryption(Keys));
        var failed = await Within(engine.RunAsync(flow, new TestState()));

        var latest = await engine.Operator.GetLatestCheckpointAsync(failed.RunId);
        Assert.Contains("secret order 42", Text(latest!.State), StringComparison.Ordinal);
        Assert.DoesNotContain("secret order 42", Text((await Store.GetRecoveryDataAsync(failed.RunId, Ct)).Checkpoint!.State), StringComparison.Ordinal);

        var edited = Encoding.UTF8.GetBytes(Text(latest.State).Replace("\"Value\":0", "\"Value\":1", StringComparison.Ordinal).Replace("secret order 42", "secret order 43", StringComparison.Ordinal));
        await engine.Operator.RerunAsync(failed.RunId, new RerunOptions { RecoveryPoint = "loaded", State = edited });
        var stored = (await Store.GetRecoveryDataAsync(failed.RunId, Ct)).Checkpoint!; // The run waits at the gate: its checkpoints are kept.
        gate.SetResult();
        var outcome = await Within(engine.WaitForRunAsync(flow, failed.RunId));

        Assert.DoesNotContain("secret order 43", Text(stored.State), StringComparison.Ordinal);
        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(("secret order 43", 1), (outcome.Result!.Payload, outcome.Result.Value));
    }
}
