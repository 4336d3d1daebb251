namespace Cairn.Bench.Workloads;

/// <summary>
/// <c>memory-child</c> (hidden), one phase of the memory workload in a fresh process. The flow: <c>build</c> (makes the
/// large state), recovery point <c>built</c>, <c>check</c> (reads the peak RSS). In the <c>save</c> phase the run is started
/// and, once the checkpoint is committed, the process reports and waits to be killed, leaving the run interrupted. In the
/// <c>restore</c> phase the engine resumes that run, restoring the state from the checkpoint; <c>check</c> reports and drops
/// the state so that saving the result does not count.
/// </summary>
internal static class MemoryChild
{
    public const string FlowName = "memory";

    public static Command CreateCommand()
    {
        var phase = new Option<string>("--phase") { Required = true }.AcceptOnlyFromAmong("save", "restore");
        var sizeBytes = new Option<int>("--size-bytes") { Required = true };
        var payload = new Option<string>("--payload") { DefaultValueFactory = _ => "state" }.AcceptOnlyFromAmong("state", "records", "stream");
        var folder = new Option<string?>("--storage-folder");
        var spill = new Option<string>("--spill") { DefaultValueFactory = _ => "on" }.AcceptOnlyFromAmong("on", "off");
        var (command, common) = CommonOptions.CreateCommand("memory-child", "One phase of the memory workload", phase, sizeBytes, payload, spill, folder);
        command.Hidden = true;
        command.SetAction((parse, ct) => RunAsync(
            common.Read(parse), parse.GetRequiredValue(phase) == "save", parse.GetValue(sizeBytes), parse.GetRequiredValue(payload), parse.GetRequiredValue(spill) == "on", parse.GetValue(folder), ct));
        return command;
    }

    private static async Task<int> RunAsync(
        BenchSettings settings, bool save, int sizeBytes, string payload, bool spill, string? storageFolder, CancellationToken cancellationToken)
    {
        var stream = payload == "stream";
        var records = payload == "records";
        using var listener = new CairnListener(recordDurations: false);
        await WarmUpAsync(settings, payload, cancellationToken);
        var warmUpBytes = listener.CheckpointBytes;

        var stateBuilt = 0L;
        var builtAt = 0L;
        var reported = new TaskCompletionSource<(long Peak, long After, long At)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var flow = CreateFlow(
            payload,
            built: () =>
            {
                stateBuilt = ProcessStats.ResidentBytes();
                builtAt = Stopwatch.GetTimestamp();
            },
            check: async (context, ct) =>
            {
                if (stream && !save)
                {
                    await ReadWholeAsync(context, ct);
                }

                reported.TrySetResult((ProcessStats.PeakResidentBytes(), ProcessStats.ResidentBytes(), Stopwatch.GetTimestamp()));
                if (save)
                {
                    // Leave the run Running past its recovery point: the parent kills this process.
                    await Task.Delay(Timeout.Infinite, ct);
                }

                context.State.Data = null;
                context.State.Rows = null;
            });

        await using var store = await BenchStore.OpenAsync(settings, cancellationToken);
        await using var engine = store.BuildEngine(flow, maxConcurrentRuns: 1, configure: builder =>
        {
            if (storageFolder is not null)
            {
                builder.UseStorageFolder(storageFolder);
            }

            builder.Configure(o => o.StateSpillThreshold = spill ? new CairnOptions().StateSpillThreshold : null);
        });
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var baseline = ProcessStats.ResidentBytes();
        var peakWasReset = ProcessStats.ResetPeak();
        var started = Stopwatch.GetTimestamp();
        await engine.StartAsync(cancellationToken);
        if (save)
        {
            await engine.StartRunAsync(flow, new MemoryState { SizeBytes = sizeBytes }, cancellationToken: cancellationToken);
        }

        var (peak, after, at) = await reported.Task.WaitAsync(cancellationToken);
        var seconds = Stopwatch.GetElapsedTime(save ? builtAt : started, at).TotalSeconds;
        var result = new MemoryPhase(save ? "save" : "restore", baseline, stateBuilt, peak, after, peakWasReset, listener.CheckpointBytes - warmUpBytes, seconds);
        Console.Out.WriteLine("RESULT " + JsonSerializer.Serialize(result, JsonSerializerOptions.Web));
        Console.Out.Flush();
        if (save)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        while (listener.CompletedRuns == 0)
        {
            await Task.Delay(10, cancellationToken);
        }

        return 0;
    }

    /// <summary>Runs the flow once with a small state on a scratch store, so that compiling the code paths is not measured.</summary>
    private static async Task WarmUpAsync(BenchSettings settings, string payload, CancellationToken cancellationToken)
    {
        await using var scratch = await BenchStore.OpenAsync(settings with { Store = null, JsonPath = null }, cancellationToken);
        var flow = CreateFlow(payload, built: () => { }, check: async (context, ct) =>
        {
            if (payload == "stream")
            {
                await ReadWholeAsync(context, ct);
            }

            context.State.Data = null;
            context.State.Rows = null;
        });
        await using var engine = scratch.BuildEngine(flow, maxConcurrentRuns: 1);
        Workload.EnsureCompleted(await engine.RunAsync(flow, new MemoryState { SizeBytes = 1024 * 1024 }, cancellationToken: cancellationToken));
    }

    /// <summary>Reads the stream the build stage put, to its end: the engine verifies its length and SHA-256 as it goes.</summary>
    private static async Task ReadWholeAsync(StageContext<MemoryState> context, CancellationToken cancellationToken)
    {
        await using var payload = await context.Streams.OpenAsync(StreamName, cancellationToken);
        await payload.CopyToAsync(Stream.Null, cancellationToken);
    }

    private const string StreamName = "payload.bin";

    private static Flow<MemoryState> CreateFlow(string payload, Action built, Func<StageContext<MemoryState>, CancellationToken, Task> check)
    {
        return Flow.Create<MemoryState>(FlowName)
            .Stage("build", async (context, ct) =>
            {
                if (payload == "records")
                {
                    context.State.Rows = BuildRows(context.State.SizeBytes);
                    built();
                    return;
                }

                if (payload == "stream")
                {
                    // Timed from here: the put writes the content to the store, the recovery point saves its name.
                    built();
                    await context.Streams.PutAsync(StreamName, new GeneratedStream(context.State.SizeBytes), ct);
                    return;
                }

                // Written to, so that every page is resident: a fresh array's untouched pages would not count in RSS.
                var data = GC.AllocateUninitializedArray<byte>(context.State.SizeBytes);
                for (var i = 0; i < data.Length; i++)
                {
                    data[i] = (byte)(i * 31 + (i >> 12));
                }

                context.State.Data = data;
                built();
            })
            .RecoveryPoint("built")
            .Stage("check", check)
            .Build();
    }

    /// <summary>
    /// Order rows taking about <paramref name="sizeBytes"/> of memory: 200 bytes a row by the object layout (the row, its
    /// two strings, the list's reference); the workload measures what they take.
    /// </summary>
    private static List<MemoryRow> BuildRows(int sizeBytes)
    {
        var count = sizeBytes / 200;
        var rows = new List<MemoryRow>(count);
        var start = new DateTime(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc);
        for (var i = 0; i < count; i++)
        {
            rows.Add(new MemoryRow
            {
                Id = 1_000_000 + i,
                Customer = $"customer-{i % 50_000:D6}",
                Sku = $"SKU-{i % 9973:D5}-{i % 7}",
                Quantity = 1 + i % 12,
                Amount = 10.25m + i % 1000,
                OrderedAt = start.AddSeconds(i),
            });
        }

        return rows;
    }

    /// <summary>A forward-only stream of generated bytes: a large payload that never exists whole in memory.</summary>
    private sealed class GeneratedStream(long length) : Cairn.Storage.ReadOnlyStream
    {
        private long _position;

        public override long Length => length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(Span<byte> buffer)
        {
            var n = (int)Math.Min(buffer.Length, length - _position);
            for (var i = 0; i < n; i++)
            {
                var at = _position + i;
                buffer[i] = (byte)(at * 31 + (at >> 12));
            }

            _position += n;
            return n;
        }
    }
}
