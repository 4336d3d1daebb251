using Cairn.Bench.Workloads;

namespace Cairn.Bench;

/// <summary>
/// The load generator: <c>dotnet run -c Release --project bench/Cairn.Bench -- WORKLOAD [options]</c>.
/// Each workload prints a table and, with <c>--json FILE</c>, writes its results.
/// </summary>
public static class BenchProgram
{
    /// <summary>Parses the arguments, runs the workload they name and returns the exit code.</summary>
    /// <param name="args">The workload and its options, for example <c>latency --runs 1000 --json latency.json</c>.</param>
    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        const string Description = "Cairn load generator: latency, throughput, recovery, size and memory workloads on a store; fuzzing of the decoders";

        var workloads = new RootCommand(Description);
        Command[] commands =
        [
            LatencyWorkload.CreateCommand(), ThroughputWorkload.CreateCommand(), RecoveryWorkload.CreateCommand(), TakeoverWorkload.CreateCommand(),
            SizeWorkload.CreateCommand(), MemoryWorkload.CreateCommand(), PurchaseWorkload.CreateCommand(), CompressionWorkload.CreateCommand(),
            FuzzWorkload.CreateCommand(),

            // The child processes some workloads start.
            RecoveryChild.CreateCommand(), ThroughputNode.CreateCommand(), MemoryChild.CreateCommand(),
        ];
        foreach (var command in commands)
        {
            workloads.Add(command);
        }

        if (Console.IsOutputRedirected)
        {
            // Piped into a file: no colours, and no wrapping of tables at an assumed 80 columns.
            AnsiConsole.Profile.Width = 200;
            AnsiConsole.Profile.Capabilities.Ansi = false;
        }

        try
        {
            return await workloads.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("bench: cancelled");
            return 130;
        }
        catch (Exception ex) when (ex is CairnException or IOException or ArgumentException or InvalidOperationException or NotSupportedException
            or TimeoutException or UnauthorizedAccessException || ex.GetType().Name == "SqliteException")
        {
            await Console.Error.WriteLineAsync($"bench: {ex.Message}");
            return 1;
        }
    }
}
