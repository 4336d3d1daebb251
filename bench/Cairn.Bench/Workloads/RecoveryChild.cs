namespace Cairn.Bench.Workloads;

/// <summary>
/// <c>recovery-child</c> (hidden), the process the <c>recovery</c> workload starts and kills. In <c>prepare</c> mode it
/// creates the runs and holds them all in stage-2, past their first recovery point, until it is killed. In <c>resume</c>
/// mode its engine finds them interrupted at start and resumes them; it reports OPENED when its store is open, READY when the engine has started, FIRST
/// at the first completion and ALL when every run has completed.
/// </summary>
internal static class RecoveryChild
{
    public static Command CreateCommand()
    {
        var mode = new Option<string>("--mode") { Required = true }.AcceptOnlyFromAmong("prepare", "resume");
        var flowName = new Option<string>("--flow") { Required = true };
        var runs = new Option<int>("--runs") { Required = true };
        var concurrency = new Option<int>("--concurrency") { Description = "MaxConcurrentRuns; default: the run count" };
        var stateBytes = new Option<int>("--state-bytes") { DefaultValueFactory = _ => 100 };
        var node = new Option<string?>("--node") { Description = "The engine's node name; default: a new one" };
        var lease = new Option<double?>("--lease") { Description = "The engine's lease in seconds; default: the engine's" };
        var (command, common) = CommonOptions.CreateCommand(
            "recovery-child", "The child process of the recovery workload", node, lease, mode, flowName, runs, concurrency, stateBytes);
        command.Hidden = true;
        command.SetAction(async (parse, ct) =>
        {
            var settings = common.Read(parse);
            var count = parse.GetValue(runs);
            var slots = parse.GetValue(concurrency) is > 0 and var c ? c : count;
            var name = parse.GetRequiredValue(flowName);
            var engine = new EngineSettings(parse.GetValue(node), parse.GetValue(lease) is { } seconds ? TimeSpan.FromSeconds(seconds) : null);
            return parse.GetRequiredValue(mode) == "prepare"
                ? await PrepareAsync(settings, engine, name, count, parse.GetValue(stateBytes), ct)
                : await ResumeAsync(settings, engine, name, count, slots, ct);
        });
        return command;
    }

    private static async Task<int> PrepareAsync(BenchSettings settings, EngineSettings engineSettings, string flowName, int runs, int stateBytes, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        await using var store = await BenchStore.OpenAsync(settings, cancellationToken);

        // Every run waits in stage-2 until the process is killed: all of them are Running, past point-1.
        var flow = BenchFlow.Create(flowName, secondStage: (_, ct) => Task.Delay(Timeout.Infinite, ct));
        await using var engine = store.BuildEngine(flow, maxConcurrentRuns: runs, engineSettings.NodeName, engineSettings.LeaseDuration);
        await engine.StartAsync(cancellationToken);
        var payload = new string('x', BenchFlow.PayloadFor(stateBytes));
        await Parallel.ForEachAsync(
            Enumerable.Range(0, runs),
            new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken },
            async (i, ct) => await engine.StartRunAsync(flow, new BenchState { Payload = payload }, cancellationToken: ct));
        Say($"CREATED {runs} {clock.ElapsedMilliseconds}");
        await Task.Delay(Timeout.Infinite, cancellationToken);
        return 0;
    }

    private static async Task<int> ResumeAsync(BenchSettings settings, EngineSettings engineSettings, string flowName, int runs, int concurrency, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        await using var store = await BenchStore.OpenAsync(settings, cancellationToken);
        Say($"OPENED {clock.ElapsedMilliseconds}");
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var listener = new CairnListener(recordDurations: false)
        {
            RunCompleted = completed =>
            {
                if (completed == 1)
                {
                    Say($"FIRST {clock.ElapsedMilliseconds}");
                }

                if (completed == runs)
                {
                    Say($"ALL {clock.ElapsedMilliseconds}");
                    all.TrySetResult();
                }
            },
        };
        var flow = BenchFlow.Create(flowName);
        await using var engine = store.BuildEngine(flow, maxConcurrentRuns: concurrency, engineSettings.NodeName, engineSettings.LeaseDuration);
        await engine.StartAsync(cancellationToken);
        Say($"READY {clock.ElapsedMilliseconds}");
        await all.Task.WaitAsync(cancellationToken);
        return 0;
    }

    private static void Say(string line)
    {
        Console.Out.WriteLine(line);
        Console.Out.Flush();
    }

    /// <summary>The node name and lease of the child's engine.</summary>
    private sealed record EngineSettings(string? NodeName, TimeSpan? LeaseDuration);

    internal static long Milliseconds(string line) => long.Parse(line.Split(' ')[^1], CultureInfo.InvariantCulture);
}
