namespace Cairn.Bench.Workloads;

/// <summary>
/// <c>latency</c>: one run at a time of the three-recovery-point flow with a ~100-byte state. Reports the wall time of
/// <see cref="CairnEngine.RunAsync{TState}"/> per run and the <c>cairn.checkpoint</c> activity's duration per recovery point.
/// </summary>
internal static class LatencyWorkload
{
    public static Command CreateCommand()
    {
        var runs = CommonOptions.Runs("Runs measured", 1000);
        var warmup = new Option<int>("--warmup") { Description = "Runs before measuring (not counted)", DefaultValueFactory = _ => 100 };
        var stateBytes = CommonOptions.StateBytes();
        var (command, common) = CommonOptions.CreateCommand(
            "latency", "One run at a time of a flow with 3 recovery points and a ~100-byte state: p50/p99 per run and per recovery point",
            runs, warmup, stateBytes);
        command.SetAction((parse, ct) => RunAsync(common.Read(parse), new Parameters(parse.GetValue(runs), parse.GetValue(warmup), parse.GetValue(stateBytes)), ct));
        return command;
    }

    private static async Task<int> RunAsync(BenchSettings settings, Parameters parameters, CancellationToken cancellationToken)
    {
        if (parameters.Runs < 1 || parameters.Warmup < 0 || parameters.StateBytes < 1)
        {
            throw new ArgumentException("--runs and --state-bytes must be 1 or more, --warmup 0 or more.");
        }

        await using var store = await BenchStore.OpenAsync(settings, cancellationToken);
        using var listener = new CairnListener(recordDurations: true);
        var flow = BenchFlow.Create("latency");
        var payload = new string('x', BenchFlow.PayloadFor(parameters.StateBytes));
        AnsiConsole.MarkupLine($"[bold]latency[/]: {parameters.Runs:N0} runs one at a time after {parameters.Warmup:N0} warm-up runs; {Markup.Escape(store.Description)}, {Workload.Describe(settings)}");

        var runTimes = new List<double>(parameters.Runs);
        double? roundTripsPerRun = null;
        long stateBytes;
        TimeSpan elapsed;
        await using (var engine = store.BuildEngine(flow, maxConcurrentRuns: 1))
        {
            await engine.StartAsync(cancellationToken);
            for (var i = 0; i < parameters.Warmup; i++)
            {
                Workload.EnsureCompleted(await engine.RunAsync(flow, new BenchState { Payload = payload }, cancellationToken: cancellationToken));
            }

            listener.TakeSamples();
            var checkpointsBefore = listener.Checkpoints;
            var bytesBefore = listener.CheckpointBytes;
            listener.Recording = true;
            var all = Stopwatch.StartNew();
            for (var i = 0; i < parameters.Runs; i++)
            {
                var started = Stopwatch.GetTimestamp();
                var outcome = await engine.RunAsync(flow, new BenchState { Payload = payload }, cancellationToken: cancellationToken);
                runTimes.Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
                Workload.EnsureCompleted(outcome);
            }

            elapsed = all.Elapsed;
            listener.Recording = false;
            stateBytes = (listener.CheckpointBytes - bytesBefore) / Math.Max(1, listener.Checkpoints - checkpointsBefore);

            if (store.IsPostgres)
            {
                // A pass of its own: counting makes Npgsql create an activity per round trip.
                const int CountedRuns = 200;
                using var counter = new RoundTripCounter();
                for (var i = 0; i < CountedRuns; i++)
                {
                    Workload.EnsureCompleted(await engine.RunAsync(flow, new BenchState { Payload = payload }, cancellationToken: cancellationToken));
                }

                roundTripsPerRun = counter.Count / (double)CountedRuns;
            }
        }

        var samples = listener.TakeSamples();
        var perRun = Percentiles.Of(runTimes);
        var perPoint = Percentiles.Of(samples.Select(s => s.Microseconds));
        var byPoint = samples.GroupBy(s => s.RecoveryPoint).OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => Percentiles.Of(g.Select(s => s.Microseconds)), StringComparer.Ordinal);

        var table = new Table().Border(TableBorder.Rounded).AddColumns("measured", "count", "p50", "p90", "p99", "max", "mean");
        Workload.AddRow(table, "run (RunAsync wall time)", perRun);
        Workload.AddRow(table, "recovery point (all 3)", perPoint);
        foreach (var (point, distribution) in byPoint)
        {
            Workload.AddRow(table, $"  {point}", distribution);
        }

        AnsiConsole.Write(table);
        var runsPerSecond = parameters.Runs / elapsed.TotalSeconds;
        AnsiConsole.MarkupLine($"State: {stateBytes:N0} bytes serialized. {runsPerSecond:N0} runs/s one at a time.");
        if (roundTripsPerRun is { } trips)
        {
            AnsiConsole.MarkupLine($"SQL round trips per run (Npgsql commands and batches, background polling included): {trips:N1}");
        }

        var results = new Results(stateBytes, perRun, perPoint, byPoint, runsPerSecond, roundTripsPerRun);
        await BenchReport.Create("latency", store, parameters, results).WriteAsync(settings, cancellationToken);
        return 0;
    }

    private sealed record Parameters(int Runs, int Warmup, int StateBytes);

    private sealed record Results(
        long StateBytes, Percentiles Run, Percentiles RecoveryPoint, Dictionary<string, Percentiles> ByRecoveryPoint, double RunsPerSecond, double? RoundTripsPerRun);
}
