namespace Cairn.Bench.Workloads;

/// <summary>
/// <c>size</c>: one run at a time of the three-recovery-point flow whose checkpoints carry a state of each given size
/// (the input and the result stay small). Reports checkpoint latency, the serialized size (the
/// <c>cairn.checkpoint.size</c> histogram) and the bytes this process wrote to disk per checkpoint
/// (<c>write_bytes</c> of /proc/self/io over the measured runs, divided by their checkpoints).
/// </summary>
internal static class SizeWorkload
{
    public static Command CreateCommand()
    {
        var sizes = new Option<string>("--sizes") { Description = "Serialized state sizes in bytes, comma-separated", DefaultValueFactory = _ => "100,10240,1048576" };
        var runs = CommonOptions.Runs("Runs measured per size (3 checkpoints each)", 200);
        var warmup = new Option<int>("--warmup") { Description = "Runs before measuring, per size", DefaultValueFactory = _ => 20 };
        var (command, common) = CommonOptions.CreateCommand(
            "size", "Checkpoint latency and bytes written for states of 100 B, 10 KB and 1 MB", sizes, runs, warmup);
        command.SetAction((parse, ct) =>
        {
            var list = parse.GetRequiredValue(sizes)
                .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(size => int.Parse(size, CultureInfo.InvariantCulture))
                .ToArray();
            return RunAsync(common.Read(parse), new Parameters(list, parse.GetValue(runs), parse.GetValue(warmup)), ct);
        });
        return command;
    }

    private static async Task<int> RunAsync(BenchSettings settings, Parameters parameters, CancellationToken cancellationToken)
    {
        if (parameters.Sizes.Length == 0 || parameters.Sizes.Any(s => s < 1) || parameters.Runs < 1 || parameters.Warmup < 0)
        {
            throw new ArgumentException("--sizes needs sizes of 1 or more, --runs must be 1 or more, --warmup 0 or more.");
        }

        await using var store = await BenchStore.OpenAsync(settings, cancellationToken);
        using var listener = new CairnListener(recordDurations: true);
        AnsiConsole.MarkupLine($"[bold]size[/]: states of {string.Join(", ", parameters.Sizes.Select(s => Format.Bytes(s)))}, {parameters.Runs:N0} runs each one at a time; {Markup.Escape(store.Description)}, {Workload.Describe(settings)}");

        var rows = new List<SizeResult>();
        foreach (var size in parameters.Sizes)
        {
            var flow = BenchFlow.Create(string.Create(CultureInfo.InvariantCulture, $"size-{size}"), checkpointPayload: BenchFlow.PayloadFor(size));
            await using var engine = store.BuildEngine(flow, maxConcurrentRuns: 1);
            await engine.StartAsync(cancellationToken);
            for (var i = 0; i < parameters.Warmup; i++)
            {
                Workload.EnsureCompleted(await engine.RunAsync(flow, new BenchState(), cancellationToken: cancellationToken));
            }

            listener.TakeSamples();
            var checkpointsBefore = listener.Checkpoints;
            var bytesBefore = listener.CheckpointBytes;
            var diskBefore = ProcessStats.DiskWriteBytes();
            listener.Recording = true;
            for (var i = 0; i < parameters.Runs; i++)
            {
                Workload.EnsureCompleted(await engine.RunAsync(flow, new BenchState(), cancellationToken: cancellationToken));
            }

            listener.Recording = false;
            var diskAfter = ProcessStats.DiskWriteBytes();
            var checkpoints = listener.Checkpoints - checkpointsBefore;
            var serialized = (double)(listener.CheckpointBytes - bytesBefore) / checkpoints;
            double? disk = diskBefore is { } before && diskAfter is { } after ? (double)(after - before) / checkpoints : null;
            var row = new SizeResult(size, checkpoints, serialized, disk, disk / serialized, Percentiles.Of(listener.TakeSamples().Select(s => s.Microseconds)));
            rows.Add(row);
            AnsiConsole.MarkupLine($"  {Format.Bytes(size)}: p50 {Format.Micros(row.Latency.P50Us)}, p99 {Format.Micros(row.Latency.P99Us)}, {Format.Bytes(row.SerializedBytes)} serialized, {(disk is { } d ? Format.Bytes(d) : "?")} written per checkpoint");
        }

        var table = new Table().Border(TableBorder.Rounded)
            .AddColumns("state", "checkpoints", "p50", "p90", "p99", "max", "serialized / checkpoint", "disk writes / checkpoint", "disk ÷ serialized");
        foreach (var row in rows)
        {
            table.AddRow(
                Format.Bytes(row.StateBytes), Format.Count(row.Checkpoints), Format.Micros(row.Latency.P50Us), Format.Micros(row.Latency.P90Us),
                Format.Micros(row.Latency.P99Us), Format.Micros(row.Latency.MaxUs), Format.Bytes(row.SerializedBytes),
                row.DiskBytes is { } disk ? Format.Bytes(disk) : "unknown", row.WriteAmplification is { } amplification ? Format.Multiple(amplification) : "-");
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine("Serialized: the cairn.checkpoint.size histogram. Disk writes: this process's write_bytes (/proc/self/io) over the measured runs ÷ their checkpoints, so each run's create, claim and complete transactions and SQLite's copy of the WAL into the database are included.");
        await BenchReport.Create("size", store, parameters, new Results(rows)).WriteAsync(settings, cancellationToken);
        return 0;
    }

    private sealed record Parameters(int[] Sizes, int Runs, int Warmup);

    private sealed record SizeResult(int StateBytes, long Checkpoints, double SerializedBytes, double? DiskBytes, double? WriteAmplification, Percentiles Latency);

    private sealed record Results(List<SizeResult> Sizes);
}
