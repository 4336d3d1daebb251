using Cairn.Flows;
using Cairn.Runs;
using Cairn.Serialization.Protection;
using Cairn.Storage;

namespace Cairn.Tests.Serialization.Protection;

/// <summary>
/// A stream put under key 1 and saved at a recovery point is opened, after a rotation, by the next attempt on an engine
/// whose current key is 2; the stream that attempt puts is stored under key 2. Both engines share one in-memory store.
/// </summary>
public sealed class StreamKeyRotationTests
{
    private static readonly CheckpointKey Key1 = ProtectionKeys.Key("key-1", 1);
    private static readonly CheckpointKey Key2 = ProtectionKeys.Key("key-2", 2);
    private static readonly byte[] Report = ProtectionKeys.RandomBytes((2 * StreamFrames.ContentSize) + 5, seed: 7);
    private int _attempts;

    private Flow<List<string>> Flow() =>
        Cairn.Flows.Flow.Create<List<string>>("stream-rotation")
            .Retry(p => p with { MaxRetries = 1, Interval = TimeSpan.FromSeconds(2) })
            .Stage("put", async (context, ct) => await context.Streams.PutAsync("report.bin", new MemoryStream(Report), ct))
            .RecoveryPoint("put-done")
            .Stage("copy", async (context, ct) =>
            {
                if (Interlocked.Increment(ref _attempts) == 1)
                {
                    throw new InvalidOperationException("the first attempt fails");
                }

                var copy = new MemoryStream();
                await using (var stream = await context.Streams.OpenAsync("report.bin", ct))
                {
                    await stream.CopyToAsync(copy, ct);
                }

                context.State.Add(copy.ToArray().AsSpan().SequenceEqual(Report) ? "read back" : "read other bytes");
                copy.Position = 0;
                await context.Streams.PutAsync("copy.bin", copy, ct);
            })
            .Build();

    [Fact]
    public async Task NextAttempt_AfterARotation_OpensTheStreamPutUnderKey1_AndPutsUnderKey2()
    {
        await using var store = new InMemoryRunStore();
        var flow = Flow();
        RunId runId;
        await using (var first = CairnEngine.CreateBuilder().UseStore(store).UseEncryption(new CheckpointKeyRing(Key1)).AddFlow(flow).Build())
        {
            runId = (await first.StartRunAsync(flow, [])).Id;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await first.WaitForAsync(runId, r => r.Status == RunStatus.WaitingForRetry, timeout.Token);
        }

        await using var rotated = CairnEngine.CreateBuilder().UseStore(store).UseEncryption(new CheckpointKeyRing(Key1, Key2)).AddFlow(flow).Build();
        await rotated.StartAsync();
        var outcome = await rotated.WaitForRunAsync(flow, runId).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(["read back"], outcome.Result);
        var keys = new List<string?>();
        await foreach (var stored in store.ListUntouchedAsync(DateTimeOffset.MaxValue, CancellationToken.None))
        {
            await using var raw = await store.OpenReadAsync(stored, CancellationToken.None);
            var header = new byte[64];
            await raw.ReadAtLeastAsync(header, header.Length);
            Assert.Null(ProtectionEnvelope.TryRead(header, out var envelope));
            keys.Add(envelope.KeyId);
        }

        Assert.Equal(["key-1", "key-2"], keys.Order());
    }
}
