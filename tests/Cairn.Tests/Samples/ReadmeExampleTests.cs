using System.Diagnostics;

namespace Cairn.Tests.Samples;

/// <summary>The README's example is the QuickStart sample, byte for byte, and the sample runs to completion.</summary>
public sealed class ReadmeExampleTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("cairn-quickstart-").FullName;

    [Fact]
    public void Readme_TenLines_AreTheQuickStartSample()
    {
        var root = RepositoryRoot();
        var readme = File.ReadAllText(Path.Combine(root, "README.md")).ReplaceLineEndings("\n");
        var section = readme[readme.IndexOf("## Ten lines", StringComparison.Ordinal)..];
        var start = section.IndexOf("```csharp\n", StringComparison.Ordinal) + "```csharp\n".Length;
        var shown = section[start..section.IndexOf("```", start, StringComparison.Ordinal)];

        var sample = File.ReadAllText(Path.Combine(root, "samples", "QuickStart", "Program.cs")).ReplaceLineEndings("\n");

        Assert.Equal(sample, shown);
    }

    [Fact]
    public async Task QuickStart_Run_CompletesTheTransfer()
    {
        var sample = Path.Combine(AppContext.BaseDirectory, "Cairn.Samples.QuickStart.dll");
        using var process = Process.Start(new ProcessStartInfo("dotnet", [sample])
        {
            WorkingDirectory = _folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = await process.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(process.ExitCode == 0, errors);
        Assert.StartsWith("Completed: debit-", output, StringComparison.Ordinal);
        Assert.Contains("credited: True", output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_folder, "cairn.db")));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Cairn.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (Cairn.slnx) was not found above the test's folder.");
    }
}
