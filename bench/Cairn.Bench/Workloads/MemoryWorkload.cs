namespace Cairn.Bench.Workloads;

/// <summary>
/// <c>memory</c>: peak RSS while saving a large state at a recovery point and while restoring it after a crash, each in a
/// fresh child process, reported above the process's baseline as a multiple of the state's size.
/// </summary>
internal static class MemoryWorkload
{
    public static Command CreateCommand()
    {
        var sizeMb = new Option<int>("--size-mb") { Description = "The state's size in MiB (a byte array)", DefaultValueFactory = _ => 100 };
        var timeout = CommonOptions.PhaseTimeout(300);
        var (command, common) = CommonOptions.CreateCommand(
            "memory", "Peak RSS while saving and restoring a 100 MB state, as a multiple of the state's size", sizeMb, timeout);
        command.SetAction((parse, ct) => RunAsync(common.Read(parse), new Parameters(parse.GetValue(sizeMb)), TimeSpan.FromSeconds(parse.GetValue(timeout)), ct));
        return command;
    }

    private static async Task<int> RunAsync(BenchSettings settings, Parameters parameters, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (parameters.SizeMiB is < 1 or > 1024)
        {
            throw new ArgumentException("--size-mb must be between 1 and 1024.");
        }

        await using var store = await BenchStore.OpenAsync(settings, cancellationToken);
        var size = parameters.SizeMiB * 1024L * 1024;
        AnsiConsole.MarkupLine($"[bold]memory[/]: a {Format.Bytes(size)} state (byte array) saved at a recovery point, then restored after SIGKILL, each in a fresh process; {Markup.Escape(store.Description)}, {Workload.Describe(settings)}");
        string[] common = ["--size-bytes", size.ToString(CultureInfo.InvariantCulture), .. store.ChildArguments()];

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
        AnsiConsole.MarkupLine($"State {Format.Bytes(size)} in memory, {Format.Bytes(saved.SerializedBytes)} serialized. Saving needs {Format.Multiple(results.SaveOverheadMultiple)} the state's size on top of the state itself.");
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

    private sealed record Parameters(int SizeMiB);

    private sealed record Results(
        long StateBytes,
        long SerializedBytes,
        MemoryPhase Save,
        MemoryPhase Restore,
        double SaveMultiple,
        double SaveOverheadMultiple,
        double RestoreMultiple);
}
