namespace Cairn.Bench.Workloads;

/// <summary>
/// <c>memory</c>: peak RSS while saving a large state at a recovery point and while restoring it after a crash, each in a
/// fresh child process, reported above the process's baseline as a multiple of the state's size.
/// </summary>
internal static class MemoryWorkload
{
    public static Command CreateCommand()
    {
        var sizeMb = new Option<int>("--size-mb") { Description = "The payload's size in MiB: 100 for a state, 1024 for a stream", DefaultValueFactory = _ => 100 };
        var payload = new Option<string>("--payload")
        {
            Description = "What is saved: a state (a byte array in the state), records (a list of order rows in the state) or a stream (a named stream put by the stage, read whole on restore)",
            DefaultValueFactory = _ => "state",
        }.AcceptOnlyFromAmong("state", "records", "stream");
        var spill = new Option<string>("--spill")
        {
            Description = "Whether large states spill into the stream store (CairnOptions.StateSpillThreshold at its default) or stay in the checkpoint",
            DefaultValueFactory = _ => "on",
        }.AcceptOnlyFromAmong("on", "off");
        var folder = new Option<string?>("--storage-folder") { Description = "Keep streams in this folder (UseStorageFolder) instead of the store's database" };
        var timeout = CommonOptions.PhaseTimeout(300);
        var (command, common) = CommonOptions.CreateCommand(
            "memory", "Peak RSS while saving and restoring a 100 MB state or a 1 GiB stream, as a multiple of its size", sizeMb, payload, spill, folder, timeout);
        command.SetAction((parse, ct) => RunAsync(
            common.Read(parse), new Parameters(parse.GetValue(sizeMb), parse.GetRequiredValue(payload), parse.GetRequiredValue(spill), parse.GetValue(folder)), TimeSpan.FromSeconds(parse.GetValue(timeout)), ct));
        return command;
    }

    private static async Task<int> RunAsync(BenchSettings settings, Parameters parameters, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (parameters.SizeMiB is < 1 or > 2047)
        {
            throw new ArgumentException("--size-mb must be between 1 and 2047.");
        }

        await using var store = await BenchStore.OpenAsync(settings, cancellationToken);
        var size = parameters.SizeMiB * 1024L * 1024;
        var what = parameters.Payload switch
        {
            "stream" => $"a {Format.Bytes(size)} stream put by a stage and saved at a recovery point, then read whole after SIGKILL",
            "records" => $"a state of about {Format.Bytes(size)} (a list of order rows) saved at a recovery point, then restored after SIGKILL",
            _ => $"a {Format.Bytes(size)} state (byte array) saved at a recovery point, then restored after SIGKILL",
        };
        var place = (parameters.StorageFolder is { } path ? $", streams in the folder {Markup.Escape(path)}" : "") + $", spill {parameters.Spill}";
        AnsiConsole.MarkupLine($"[bold]memory[/]: {what}, each in a fresh process; {Markup.Escape(store.Description)}{place}, {Workload.Describe(settings)}");
        string[] common =
        [
            "--size-bytes", size.ToString(CultureInfo.InvariantCulture), "--payload", parameters.Payload, "--spill", parameters.Spill,
            .. parameters.StorageFolder is { } folder ? ["--storage-folder", Path.GetFullPath(folder)] : Array.Empty<string>(),
            .. store.ChildArguments(),
        ];

        MemoryPhase saved;
        using (var child = ChildProcess.Start(["memory-child", "--phase", "save", .. common]))
        {
            saved = Parse(await child.WaitForLineAsync("RESULT", timeout, cancellationToken));
            await child.KillAsync(cancellationToken);
        }

        MemoryPhase restored;
        using (var child = ChildProcess.Start(["memory-child", "--phase", "restore", .. common]))
        {
            restored = Parse(await child.WaitForLineAsync("RESULT", timeout, cancellationToken));
            var exitCode = await child.WaitForExitAsync(timeout, cancellationToken);
            if (exitCode != 0)
            {
                throw new InvalidOperationException($"The restoring child process exited with code {exitCode}: {await child.GetErrorsAsync()}");
            }
        }

        // A list of rows takes what the runtime makes of it: its size is what building it added to the process.
        if (parameters.Payload == "records")
        {
            size = saved.StateBuiltBytes - saved.BaselineBytes;
            AnsiConsole.MarkupLine($"The rows took {Format.Bytes(size)} when built; multiples are of that.");
        }

        var results = new Results(
            size,
            saved.SerializedBytes,
            saved,
            restored,
            (double)(saved.PeakBytes - saved.BaselineBytes) / size,
            (double)(saved.PeakBytes - saved.StateBuiltBytes) / size,
            (double)(restored.PeakBytes - restored.BaselineBytes) / size);

        var table = new Table().Border(TableBorder.Rounded).AddColumns("phase", "baseline RSS", "state built", "peak RSS", "peak − baseline", "× state size", "time");
        table.AddRow("save", Format.Bytes(saved.BaselineBytes), Format.Bytes(saved.StateBuiltBytes), Format.Bytes(saved.PeakBytes),
            Format.Bytes(saved.PeakBytes - saved.BaselineBytes), $"[bold]{Format.Multiple(results.SaveMultiple)}[/]", Format.Seconds(TimeSpan.FromSeconds(saved.Seconds)));
        table.AddRow("restore", Format.Bytes(restored.BaselineBytes), "-", Format.Bytes(restored.PeakBytes),
            Format.Bytes(restored.PeakBytes - restored.BaselineBytes), $"[bold]{Format.Multiple(results.RestoreMultiple)}[/]", Format.Seconds(TimeSpan.FromSeconds(restored.Seconds)));
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(parameters.Payload == "stream"
            ? $"Stream {Format.Bytes(size)}: saving raised RSS by {Format.Bytes(saved.PeakBytes - saved.BaselineBytes)}, reading it back by {Format.Bytes(restored.PeakBytes - restored.BaselineBytes)}."
            : $"State {Format.Bytes(size)} in memory, {Format.Bytes(saved.SerializedBytes)} serialized. Saving needs {Format.Multiple(results.SaveOverheadMultiple)} the state's size on top of the state itself.");
        if (!saved.PeakWasReset || !restored.PeakWasReset)
        {
            AnsiConsole.MarkupLine("[yellow]The peak could not be reset at the baseline: it is the peak since the child process started.[/]");
        }

        await BenchReport.Create("memory", store, parameters, results).WriteAsync(settings, cancellationToken);
        return 0;
    }

    private static MemoryPhase Parse(ChildLine line) =>
        JsonSerializer.Deserialize<MemoryPhase>(line.Text["RESULT ".Length..], JsonSerializerOptions.Web)
        ?? throw new InvalidOperationException($"The child process reported nothing readable: {line.Text}");

    private sealed record Parameters(int SizeMiB, string Payload, string Spill, string? StorageFolder);

    private sealed record Results(
        long StateBytes,
        long SerializedBytes,
        MemoryPhase Save,
        MemoryPhase Restore,
        double SaveMultiple,
        double SaveOverheadMultiple,
        double RestoreMultiple);
}
