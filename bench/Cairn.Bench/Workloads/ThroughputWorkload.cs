namespace Cairn.Bench.Workloads;

/// <summary>
/// <c>throughput</c>: for each concurrency level C, C loops each run the three-recovery-point flow with
/// <see cref="CairnEngine.RunAsync{TState}"/> one run after another, on an engine with <c>MaxConcurrentRuns = C</c>, for a
/// fixed time after a warm-up. Counts runs completed and checkpoints committed inside the measured window.
/// </summary>
internal static class ThroughputWorkload
{
    public static Command CreateCommand()
    {
        var concurrency = new Option<string>("--concurrency") { Description = "Concurrency levels, comma-separated", DefaultValueFactory = _ => "1,16,64,256" };
        var duration = new Option<double>("--duration") { Description = "Seconds measured per level", DefaultValueFactory = _ => 10 };
        var warmup = new Option<double>("--warmup") { Description = "Seconds run before measuring, per level", DefaultValueFactory = _ => 2 };
        var stateBytes = CommonOptions.StateBytes();
        var dat = new Option<string?>("--dat") { Description = "Also write the levels as columns for gnuplot (bench/plot-throughput.gp)", HelpName = "FILE" };
        var allocations = new Option<bool>("--allocations") { Description = "Also sample the managed allocations by type during each measured window (from the runtime's GCAllocationTick events) and print the top ones" };
        var nodes = new Option<int>("--nodes") { Description = "PostgreSQL: node processes, each keeping C runs in flight; the figures are their sums", DefaultValueFactory = _ => 1 };
        var (command, common) = CommonOptions.CreateCommand(
            "throughput", "Keep C runs in flight for a fixed time per concurrency level: runs/s, checkpoints/s, p99 run latency",
            nodes, concurrency, duration, warmup, stateBytes, dat, allocations);
        command.SetAction((parse, ct) =>
        {
            var levels = parse.GetRequiredValue(concurrency)
                .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(level => int.Parse(level, CultureInfo.InvariantCulture))
                .ToArray();
            return RunAsync(common.Read(parse), new Parameters(levels, parse.GetValue(duration), parse.GetValue(warmup), parse.GetValue(stateBytes), parse.GetValue(nodes)), parse.GetValue(dat), parse.GetValue(allocations), ct);
        });
        return command;
    }

    private static async Task<int> RunAsync(BenchSettings settings, Parameters parameters, string? datPath, bool sampleAllocations, CancellationToken cancellationToken)
    {
        if (parameters.Concurrency.Length == 0 || parameters.Concurrency.Any(c => c < 1) || parameters.DurationSeconds <= 0 || parameters.WarmupSeconds < 0 || parameters.StateBytes < 1 || parameters.Nodes < 1)
        {
            throw new ArgumentException("--concurrency needs levels of 1 or more, --duration must be positive, --warmup not negative, --state-bytes and --nodes 1 or more.");
        }

        await using var store = await BenchStore.OpenAsync(settings, cancellationToken);
        if (parameters.Nodes > 1 && !store.IsPostgres)
        {
            throw new ArgumentException("--nodes above 1 needs a store that several processes share: use --store postgres or a PostgreSQL connection string.");
        }

        using var listener = new CairnListener(recordDurations: false);
        using var sampler = sampleAllocations ? new AllocationSampler() : null;
        var flow = BenchFlow.Create("throughput");
        var payload = new string('x', BenchFlow.PayloadFor(parameters.StateBytes));
        var onNodes = parameters.Nodes > 1 ? $" on each of {parameters.Nodes} node processes" : "";
        AnsiConsole.MarkupLine($"[bold]throughput[/]: concurrency {string.Join(", ", parameters.Concurrency)}{onNodes}, {parameters.DurationSeconds:N0} s each after {parameters.WarmupSeconds:N0} s of warm-up; {Markup.Escape(store.Description)}, {Workload.Describe(settings)}");

        var levels = new List<Level>();
        foreach (var concurrency in parameters.Concurrency)
        {
            var level = parameters.Nodes > 1
                ? await ThroughputNode.MeasureOnNodesAsync(store, concurrency, parameters.Nodes, parameters.DurationSeconds, parameters.WarmupSeconds, parameters.StateBytes, cancellationToken)
                : await MeasureAsync(store, flow, payload, concurrency, parameters.DurationSeconds, TimeSpan.FromSeconds(parameters.WarmupSeconds), listener, nodeName: null, cancellationToken, sampler);
            levels.Add(level);
            AnsiConsole.MarkupLine($"  C={concurrency}: {level.RunsPerSecond:N0} runs/s, {level.CheckpointsPerSecond:N0} checkpoints/s, p99 {Format.Micros(level.Latency.P99Us)}, CPU {level.CpuShare:P0}, machine {level.MachineBusy:P0} busy ({level.MachineCpuMsPerRun:N2} ms CPU per run), peak RSS {level.PeakRssBytes / 1048576.0:N0} MiB, {level.AllocatedBytesPerRun / 1024:N1} KiB allocated per run, {level.Gen0Collections:N0} gen0 GCs");
            foreach (var (type, share) in sampler?.Top(15) ?? [])
            {
                AnsiConsole.MarkupLine($"    {share,6:P1}  {Markup.Escape(type)}");
            }
        }

        var table = new Table().Border(TableBorder.Rounded).AddColumns("concurrency", "runs", "runs/s", "checkpoints/s", "p50 run", "p99 run", "max run", "CPU (all cores)");
        foreach (var level in levels)
        {
            table.AddRow(
                Format.Count(level.Concurrency), Format.Count(level.Runs), Format.Count(level.RunsPerSecond), Format.Count(level.CheckpointsPerSecond),
                Format.Micros(level.Latency.P50Us), Format.Micros(level.Latency.P99Us), Format.Micros(level.Latency.MaxUs), level.CpuShare.ToString("P0", CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(table);
        await BenchReport.Create("throughput", store, parameters, new Results(levels)).WriteAsync(settings, cancellationToken);
        if (datPath is not null)
        {
            await WriteDatAsync(datPath, settings, levels, cancellationToken);
        }

        return 0;
    }

    private static async Task WriteDatAsync(string path, BenchSettings settings, List<Level> levels, CancellationToken cancellationToken)
    {
        var lines = new List<string> { $"# cairn bench throughput, {Workload.Describe(settings)}", "# concurrency runs_per_s checkpoints_per_s p50_run_ms p99_run_ms cpu_share" };
        lines.AddRange(levels.Select(l => string.Create(
            CultureInfo.InvariantCulture,
            $"{l.Concurrency} {l.RunsPerSecond:F1} {l.CheckpointsPerSecond:F1} {l.Latency.P50Us / 1000:F3} {l.Latency.P99Us / 1000:F3} {l.CpuShare:F3}")));
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        await File.WriteAllLinesAsync(full, lines, cancellationToken);
        AnsiConsole.MarkupLine($"Columns for gnuplot written to [blue]{Markup.Escape(full)}[/].");
    }

    /// <summary>Keeps <paramref name="concurrency"/> runs in flight on one engine in this process and measures a window.</summary>
    /// <param name="warmup">How long to run before the measured window starts.</param>
    internal static async Task<Level> MeasureAsync(
        BenchStore store, Flow<BenchState> flow, string payload, int concurrency, double durationSeconds, TimeSpan warmup, CairnListener listener, string? nodeName,
        CancellationToken cancellationToken, AllocationSampler? sampler = null)
    {
        await using var engine = store.BuildEngine(flow, maxConcurrentRuns: concurrency, nodeName);
        await engine.StartAsync(cancellationToken);
        return await MeasureAsync(engine, flow, () => new BenchState { Payload = payload }, concurrency, durationSeconds, warmup, listener, cancellationToken, sampler is null ? null : sampler.Start, sampler is null ? null : sampler.Stop);
    }

    /// <summary>Keeps <paramref name="concurrency"/> runs of <paramref name="flow"/> in flight on a started engine and measures a window.</summary>
    /// <param name="newInput">Makes each run's input.</param>
    /// <param name="warmup">How long to run before the measured window starts.</param>
    /// <param name="onWindowStart">Called when the measured window starts.</param>
    /// <param name="onWindowEnd">Called when the measured window ends.</param>
    internal static async Task<Level> MeasureAsync<TState>(
        CairnEngine engine, Flow<TState> flow, Func<TState> newInput, int concurrency, double durationSeconds, TimeSpan warmup, CairnListener listener,
        CancellationToken cancellationToken, Action? onWindowStart = null, Action? onWindowEnd = null)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var loops = Enumerable.Range(0, concurrency)
            .Select(_ => Task.Run(() => LoopAsync(engine, flow, newInput, stop.Token), CancellationToken.None))
            .ToArray();

        await Task.Delay(warmup, cancellationToken);
        onWindowStart?.Invoke();
        using var process = Process.GetCurrentProcess();
        var windowStart = Stopwatch.GetTimestamp();
        var checkpointsAtStart = listener.Checkpoints;
        var cpuAtStart = process.TotalProcessorTime;
        var machineAtStart = ProcessStats.MachineCpuTicks();
        var allocatedAtStart = GC.GetTotalAllocatedBytes(precise: false);
        var gen0AtStart = GC.CollectionCount(0);
        await Task.Delay(TimeSpan.FromSeconds(durationSeconds), cancellationToken);
        var windowEnd = Stopwatch.GetTimestamp();
        var machineAtEnd = ProcessStats.MachineCpuTicks();
        var allocated = GC.GetTotalAllocatedBytes(precise: false) - allocatedAtStart;
        onWindowEnd?.Invoke();
        var gen0 = GC.CollectionCount(0) - gen0AtStart;
        var checkpointsAtEnd = listener.Checkpoints;
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuAtStart;
        await stop.CancelAsync();
        var timings = (await Task.WhenAll(loops)).SelectMany(t => t).ToList();

        // Runs that completed inside the window count; their latencies are the window's latencies.
        var inWindow = timings.Where(t => t.End >= windowStart && t.End <= windowEnd).ToList();
        var seconds = Stopwatch.GetElapsedTime(windowStart, windowEnd).TotalSeconds;
        return new Level(
            concurrency,
            inWindow.Count,
            checkpointsAtEnd - checkpointsAtStart,
            inWindow.Count / seconds,
            (checkpointsAtEnd - checkpointsAtStart) / seconds,
            cpu.TotalSeconds / seconds / Environment.ProcessorCount,
            Percentiles.Of(inWindow.Select(t => Stopwatch.GetElapsedTime(t.Start, t.End).TotalMicroseconds)))
        {
            PeakRssBytes = ProcessStats.PeakResidentBytes(),
            AllocatedBytesPerRun = inWindow.Count > 0 ? (double)allocated / inWindow.Count : double.NaN,
            Gen0Collections = gen0,
            MachineBusy = machineAtStart is { } a && machineAtEnd is { } b && b.Total > a.Total ? (double)(b.Busy - a.Busy) / (b.Total - a.Total) : double.NaN,
        };
    }

    private static async Task<List<(long Start, long End)>> LoopAsync<TState>(CairnEngine engine, Flow<TState> flow, Func<TState> newInput, CancellationToken stop)
    {
        var timings = new List<(long Start, long End)>();
        while (!stop.IsCancellationRequested)
        {
            var started = Stopwatch.GetTimestamp();

            // Not cancelled by 'stop': a run under way finishes, so that stopping does not leave errors behind.
            var outcome = await engine.RunAsync(flow, newInput(), cancellationToken: CancellationToken.None);
            timings.Add((started, Stopwatch.GetTimestamp()));
            Workload.EnsureCompleted(outcome);
        }

        return timings;
    }

    private sealed record Parameters(int[] Concurrency, double DurationSeconds, double WarmupSeconds, int StateBytes, int Nodes);

    /// <summary>One concurrency level's figures; with several nodes, runs and rates are sums and the rest are the nodes' worst.</summary>
    internal sealed record Level(int Concurrency, int Runs, long Checkpoints, double RunsPerSecond, double CheckpointsPerSecond, double CpuShare, Percentiles Latency)
    {
        /// <summary>The engine process's peak resident set size (VmHWM) at the end of the window; with several nodes, the largest.</summary>
        public long PeakRssBytes { get; init; }

        /// <summary>Managed bytes allocated in the process per completed run in the window (the load generator's included).</summary>
        public double AllocatedBytesPerRun { get; init; }

        /// <summary>Generation 0 collections in the window.</summary>
        public int Gen0Collections { get; init; }

        /// <summary>How busy the whole machine was during the window (engine, database and the rest), 0 to 1, from /proc/stat.</summary>
        public double MachineBusy { get; init; }

        /// <summary>The whole machine's CPU time per completed run in the window, in milliseconds.</summary>
        public double MachineCpuMsPerRun => RunsPerSecond > 0 ? MachineBusy * Environment.ProcessorCount * 1000 / RunsPerSecond : double.NaN;
    }

    private sealed record Results(List<Level> Levels);
}
