using BenchmarkDotNet.Attributes;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Serialization;
using Cairn.Storage;

namespace Cairn.MicroBench;

/// <summary>
/// The cost of one run of a flow of trivial stages on the in-memory store, so no store I/O is measured: what the engine
/// itself adds around the stages (stage contexts, checkpoints, store calls, completion).
/// </summary>
[MemoryDiagnoser]
public class DispatchBenchmarks
{
    private CairnEngine _idleEngine = null!;
    private CairnEngine _engine = null!;
    private Flow<CheckpointState> _flow = null!;
    private ClaimRequest _claim = null!;
    private CheckpointState _input = new();

    /// <summary>The flow: stages and recovery points.</summary>
    [Params("1 stage, 0 RP", "3 stages, 2 RP")]
    public string Shape { get; set; } = "";

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var builder = Flow.Create<CheckpointState>("dispatch");
        var stages = Shape.StartsWith('1') ? 1 : 3;
        for (var i = 0; i < stages; i++)
        {
            if (i > 0)
            {
                // Generated names, the same on every build of this benchmark's flow.
#pragma warning disable CAIRN002
                builder.RecoveryPoint($"p{i}");
#pragma warning restore CAIRN002
            }

            builder.Stage($"s{i}", (context, _) =>
            {
                context.State.Counter++;
                return Task.CompletedTask;
            });
        }

        _flow = builder.Build();
        _input = CheckpointState.OfSize(100);

        // Never started: its claim loop must not race the benchmark for the runs it creates and executes itself.
        _idleEngine = CairnEngine.CreateBuilder().UseInMemoryStore().AddFlow(_flow).Build();
        _claim = new ClaimRequest(_idleEngine.NodeName, [_flow.Name], 1, TimeSpan.FromSeconds(30));

        _engine = CairnEngine.CreateBuilder().UseInMemoryStore().AddFlow(_flow).Build();
        await _engine.StartAsync();
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _engine.DisposeAsync();
        await _idleEngine.DisposeAsync();
    }

    /// <summary>
    /// One attempt executed on the calling thread, as the engine's worker executes a claimed run: serialize and checksum
    /// the input, create the run, claim it, run the stages and recovery points, save the result. No scheduler hand-off.
    /// </summary>
    [Benchmark(Baseline = true)]
    public async Task Attempt()
    {
        var input = _idleEngine.SerializeState(_input, "input", "");
        var id = RunId.New();
        await _idleEngine.Store.CreateRunAsync(new NewRun(id, _flow.Name, _flow.Version, id.ToString(), input, Checksum.Compute(input), "{}"), CancellationToken.None);
        var claimed = await _idleEngine.Store.ClaimDueRunsAsync(_claim, CancellationToken.None);
        await _flow.RunAttemptAsync(_idleEngine.Execution, claimed[0], knownInput: null, CancellationToken.None);

        // Keeps the store at one run: its lookups scan every run.
        await ((IRunOperations)_idleEngine.Store).PurgeAsync(DateTimeOffset.MaxValue, CancellationToken.None);
    }

    /// <summary>
    /// The public path: <see cref="CairnEngine.RunAsync{TState}"/> on a started engine, which hands the run to its
    /// claim loop and worker threads and waits for the outcome, then reads and deserializes the result.
    /// </summary>
    [Benchmark]
    public async Task<int> RunAsync()
    {
        var outcome = await _engine.RunAsync(_flow, _input);
        await ((IRunOperations)_engine.Store).PurgeAsync(DateTimeOffset.MaxValue, CancellationToken.None);
        return outcome.IsCompleted ? outcome.Result!.Counter : throw new InvalidOperationException(outcome.Error);
    }
}
