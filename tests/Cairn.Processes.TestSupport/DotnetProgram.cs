using System.Diagnostics;

namespace Cairn.Processes.TestSupport;

/// <summary>
/// Runs a program of the test's output folder (<c>Cairn.Cli.dll</c>, <c>Cairn.CrashTest.dll</c>, ...) as a real child
/// process under the same <c>dotnet</c> host as the tests, colours off, its output redirected.
/// </summary>
public static class DotnetProgram
{
    /// <summary>Starts <paramref name="assembly"/> with <paramref name="arguments"/> and returns it while it runs.</summary>
    public static RunningProgram Start(string assembly, params string[] arguments) => StartIn(null, assembly, arguments);

    /// <summary>Starts <paramref name="assembly"/> in <paramref name="workingDirectory"/> (null: the test's) and returns it while it runs.</summary>
    public static RunningProgram StartIn(string? workingDirectory, string assembly, params string[] arguments) =>
        new(Process.Start(StartInfo(assembly, arguments, workingDirectory)) ?? throw new InvalidOperationException($"could not start {assembly}"), assembly);

    /// <summary>Runs <paramref name="assembly"/> to its end and returns what it printed; kills it (and its children) if it takes longer than <paramref name="timeout"/>.</summary>
    public static async Task<(int ExitCode, string Output, string Errors)> RunAsync(string assembly, string? workingDirectory, TimeSpan timeout, params string[] arguments)
    {
        using var process = Process.Start(StartInfo(assembly, arguments, workingDirectory)) ?? throw new InvalidOperationException($"could not start {assembly}");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var patience = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(patience.Token);
        }
        catch (OperationCanceledException)
        {
            // The crash test's workers are children of the program: kill them too, or they outlive the test.
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{assembly} {string.Join(' ', arguments)} did not finish in {timeout}. Output:\n{await output}\nErrors:\n{await errors}");
        }

        return (process.ExitCode, await output, await errors);
    }

    private static ProcessStartInfo StartInfo(string assembly, IEnumerable<string> arguments, string? workingDirectory)
    {
        var start = new ProcessStartInfo
        {
            FileName = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet",
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (workingDirectory is not null)
        {
            start.WorkingDirectory = workingDirectory;
        }

        start.Environment["NO_COLOR"] = "1";
        // The program's assembly is copied next to the tests by their project reference.
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, assembly));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }
}
