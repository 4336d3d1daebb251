namespace Cairn.Bench.Workloads;

/// <summary>
/// <c>throughput-node</c> (hidden): one node process of <c>throughput --nodes N</c>. It keeps C runs in flight on its own
/// engine, measures the same wall-clock window as its sibling nodes (from <c>--start-at</c>), and reports its figures as
/// one JSON line; the parent adds them up.
/// </summary>
internal static class ThroughputNode
{
    private const string ResultPrefix = "RESULT ";

    public static Command CreateCommand()
    {
        var concurrency = new Option<int>("--concurrency") { Required = true };
        var duration = new Option<double>("--duration") { Required = true };
        var startAt = new Option<long>("--start-at") { Description = "When the measured window starts, in Unix milliseconds", Required = true };
        var stateBytes = new Option<int>("--state-bytes") { DefaultValueFactory = _ => 100 };
        var node = new Option<string>("--node") { Required = true };
        var (command, common) = CommonOptions.CreateCommand("throughput-node", "One node process of the throughput workload", concurrency, duration, startAt, stateBytes, node);
        command.Hidden = true;
        command.SetAction(async (parse, ct) =>
        {
            await using var store = await BenchStore.OpenAsync(common.Read(parse), ct);
            using var listener = new CairnListener(recordDurations: false);
            var flow = BenchFlow.Create("throughput");
            var payload = new string('x', BenchFlow.PayloadFor(parse.GetValue(stateBytes)));
            var warmup = DateTimeOffset.FromUnixTimeMilliseconds(parse.GetValue(startAt)) - TimeProvider.System.GetUtcNow();
            var level = await ThroughputWorkload.MeasureAsync(
                store, flow, payload, parse.GetValue(concurrency), parse.GetValue(duration), warmup > TimeSpan.Zero ? warmup : TimeSpan.Zero, listener,
                parse.GetRequiredValue(node), ct);
            Console.Out.WriteLine(ResultPrefix + JsonSerializer.Serialize(level));
            Console.Out.Flush();
            return 0;
        });
        return command;
    }

    /// <summary>Runs one level on <paramref name="nodes"/> node processes at once and adds up their figures.</summary>
    public static async Task<ThroughputWorkload.Level> MeasureOnNodesAsync(
        BenchStore store, int concurrency, int nodes, double durationSeconds, double warmupSeconds, int stateBytes, CancellationToken cancellationToken)
    {
        // Time for every process to start and open the store before the warm-up begins.
        var startAt = TimeProvider.System.GetUtcNow() + TimeSpan.FromSeconds(3 + warmupSeconds);
        var children = Enumerable.Range(1, nodes).Select(i => ChildProcess.Start(
        [
            "throughput-node",
            "--concurrency", concurrency.ToString(CultureInfo.InvariantCulture),
            "--duration", durationSeconds.ToString(CultureInfo.InvariantCulture),
            "--start-at", startAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
            "--state-bytes", stateBytes.ToString(CultureInfo.InvariantCulture),
            "--node", $"bench-node-{i}",
            .. store.ChildArguments(),
        ])).ToList();
        try
        {
            var timeout = TimeSpan.FromSeconds(60 + warmupSeconds + durationSeconds);
            var levels = new List<ThroughputWorkload.Level>();
            foreach (var child in children)
            {
                var line = await child.WaitForLineAsync(ResultPrefix, timeout, cancellationToken);
                levels.Add(JsonSerializer.Deserialize<ThroughputWorkload.Level>(line.Text[ResultPrefix.Length..])
                    ?? throw new InvalidOperationException($"A node process reported '{line.Text}'."));
            }

            return new ThroughputWorkload.Level(
                concurrency,
                levels.Sum(l => l.Runs),
                levels.Sum(l => l.Checkpoints),
                levels.Sum(l => l.RunsPerSecond),
                levels.Sum(l => l.CheckpointsPerSecond),
                levels.Sum(l => l.CpuShare),
                new Percentiles(
                    levels.Sum(l => l.Latency.Count),
                    levels.Max(l => l.Latency.MeanUs),
                    levels.Max(l => l.Latency.P50Us),
                    levels.Max(l => l.Latency.P90Us),
                    levels.Max(l => l.Latency.P99Us),
                    levels.Max(l => l.Latency.MaxUs)))
            {
                PeakRssBytes = levels.Max(l => l.PeakRssBytes),
                AllocatedBytesPerRun = levels.Max(l => l.AllocatedBytesPerRun),
                Gen0Collections = levels.Sum(l => l.Gen0Collections),
                MachineBusy = levels.Max(l => l.MachineBusy),
            };
        }
        finally
        {
            children.ForEach(child => child.Dispose());
        }
    }
}
