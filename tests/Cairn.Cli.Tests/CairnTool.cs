using System.Diagnostics;

namespace Cairn.Cli.Tests;

/// <summary>Runs the real <c>cairn</c> tool to its end in a working folder, colours off, and returns what it printed.</summary>
internal static class CairnTool
{
    public static async Task<(int ExitCode, string Output, string Errors)> RunAsync(string workingDirectory, TimeSpan timeout, params string[] arguments)
    {
        var start = new ProcessStartInfo
        {
            FileName = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet",
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        start.Environment["NO_COLOR"] = "1";
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Cairn.Cli.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(timeout);
        return (process.ExitCode, await output, await errors);
    }
}
