using System.Text.Json.Nodes;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Storage;
using Cairn.Tests.Support;
using Xunit.Abstractions;

namespace Cairn.Tests.Streams;

/// <summary>What goes wrong with spilled states: each failure worded, each leaving the run's saved data as it was.</summary>
public sealed class StateSpillFailureTests(ITestOutputHelper output) : EngineTest(output)
{
    private const int Threshold = 20_000;

    private static string Rows(int count) => string.Join('\n', Enumerable.Range(0, count).Select(i => $"order-{i},customer-{i % 97},{i * 3}.50"));

    private static Action<CairnEngineBuilder> Spilling => b => b.Configure(o => o.StateSpillThreshold = Threshold);

    private static Flow<TestState> FailingAfterLoad(string name, Action<TestState> load) => Flow.Create<TestState>(name)
        .Retry(RetryPolicy.None)
        .Stage("load", (c, _) =>
        {
            load(c.State);
            return Task.CompletedTask;
        })
        .RecoveryPoint("loaded")
        .Stage("insert", (c, _) => c.Recovery.Attempt == 1 ? throw new InvalidOperationException("the database went away") : Task.CompletedTask)
        .Build();

    private async Task<List<StoredStream>> StoredAsync()
    {
        var stored = new List<StoredStream>();
        await foreach (var stream in Store.ListUntouchedAsync(DateTimeOffset.MaxValue, Ct))
        {
            stored.Add(stream);
        }

        return stored;
    }

    [Fact]
    public async Task AStateThatCannotBeSerializedAfterItStartedToSpill_FailsNamingTheMember_AndLeavesNoContent()
    {
        // Payload is written (and spilled) before Callback, which System.Text.Json refuses.
        var flow = FailingAfterLoad("unserializable", s =>
        {
            s.Payload = Rows(2000);
            s.Callback = () => 1;
        });

        var outcome = await Within(CreateEngine(flow, build: Spilling).RunAsync(flow, new TestState()));

        Assert.Equal(RunStatus.Failed, outcome.Status);
        Assert.Contains("could not save recovery point 'loaded'", outcome.Error, StringComparison.Ordinal);
        Assert.Contains("cannot be serialized at member '$.Callback'", outcome.Error, StringComparison.Ordinal);
        Assert.Empty(await StoredAsync());
    }

    [Fact]
    public async Task TheStreamStoreFailingMidway_FailsTheSaveWithTheStoresError()
    {
        var flow = FailingAfterLoad("store-fails", s => s.Payload = Rows(20_000));
        var engine = CreateEngine(flow, build: b =>
        {
            Spilling(b);
            b.UseStreamStore(new FailingStreamStore(failAfterBytes: 100_000));
        });

        var run = await engine.StartRunAsync(flow, new TestState());
        var waiting = await WaitForAsync(engine, run.Id, r => r.LastError is not null, "the save to fail");

        Assert.Contains("StoreUnavailableException: the stream volume went away", waiting.LastError, StringComparison.Ordinal);
        Assert.Null((await Store.GetRecoveryDataAsync(run.Id, Ct)).Checkpoint);
    }

    [Fact]
    public async Task ASpilledStateWhoseContentIsGone_FailsTheResumeNamingIt()
    {
        var flow = FailingAfterLoad("gone", s => s.Payload = Rows(2000));
        var failed = await RunToFailureAsync(flow, new TestState(), Spilling);
        var spilled = (await Store.GetRecoveryDataAsync(failed.RunId, Ct)).Checkpoint!.Streams["$state"];
        Assert.True(await Store.DeleteAsync(spilled, DateTimeOffset.MaxValue, Ct));

        var outcome = await RerunOnAsync(flow, failed.RunId);

        Assert.Equal(RunStatus.Failed, outcome.Status);
        Assert.Contains($"The spilled state of run {failed.RunId} at recovery point 'loaded'", outcome.Error, StringComparison.Ordinal);
        Assert.Contains("is missing from the stream store", outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASpilledStateThatNoLongerReads_FailsNamingItAndItsType_AndKeepsTheCheckpoint()
    {
        var flow = FailingAfterLoad("changed", s => s.Payload = Rows(2000));
        var failed = await RunToFailureAsync(flow, new TestState(), Spilling);
        var changed = Flow.Create<StrictState>("changed")
            .Stage("load", (_, _) => Task.CompletedTask)
            .RecoveryPoint("loaded")
            .Stage("insert", (_, _) => Task.CompletedTask)
            .Build();

        var outcome = await RerunOnAsync(changed, failed.RunId);

        Assert.Equal(RunStatus.Failed, outcome.Status);
        Assert.Contains($"The spilled state of run {failed.RunId} at recovery point 'loaded'", outcome.Error, StringComparison.Ordinal);
        Assert.Contains("can no longer be read as StrictState", outcome.Error, StringComparison.Ordinal);
        Assert.True((await Store.GetRecoveryDataAsync(failed.RunId, Ct)).Checkpoint!.Streams.ContainsKey("$state"));
    }

    [Fact]
    public async Task ASpilledStateOfAnOlderVersion_ReachesTheUpgradeHookWhole()
    {
        var v1 = FailingAfterLoad("upgraded", s => s.Payload = Rows(2000));
        var failed = await RunToFailureAsync(v1, new TestState(), Spilling);
        var v2 = Flow.Create<StrictState>("upgraded", version: 2)
            .Stage("load", (_, _) => throw new InvalidOperationException("must not run again"))
            .RecoveryPoint("loaded")
            .Stage("insert", (_, _) => Task.CompletedTask)
            .UpgradeState((_, bytes) => new StrictState { Payload = JsonNode.Parse(bytes.Span)!["Payload"]!.GetValue<string>().Length })
            .Build();

        var outcome = await RerunOnAsync(v2, failed.RunId);

        Assert.True(outcome.IsCompleted, outcome.Error);
        Assert.Equal(Rows(2000).Length, outcome.Result!.Payload);
    }

    public sealed class StrictState
    {
        public int Payload { get; set; }
    }

    /// <summary>A stream store whose volume goes away after some bytes of a write.</summary>
    private sealed class FailingStreamStore(long failAfterBytes) : IStreamStore
    {
        public async Task<StoredStream> WriteAsync(Stream content, CancellationToken cancellationToken)
        {
            var buffer = new byte[16 * 1024];
            long total = 0;
            int read;
            while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
            {
                total += read;
                if (total > failAfterBytes)
                {
                    throw new StoreUnavailableException("the stream volume went away");
                }
            }

            throw new InvalidOperationException("the content ended before the store failed");
        }

        public Task<Stream> OpenReadAsync(StoredStream stream, CancellationToken cancellationToken) => throw new StreamNotFoundException("nothing is stored");

        public Task<bool> TouchAsync(StoredStream stream, CancellationToken cancellationToken) => Task.FromResult(false);

        public IAsyncEnumerable<StoredStream> ListUntouchedAsync(DateTimeOffset untouchedSince, CancellationToken cancellationToken) =>
            AsyncEnumerable.Empty<StoredStream>();

        public Task<bool> DeleteAsync(StoredStream stream, DateTimeOffset untouchedSince, CancellationToken cancellationToken) => Task.FromResult(false);
    }
}
