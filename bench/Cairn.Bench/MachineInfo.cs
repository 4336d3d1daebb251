using System.Runtime.InteropServices;

namespace Cairn.Bench;

/// <summary>The machine a benchmark ran on, as far as the process can tell.</summary>
/// <param name="RuntimeSettings">The runtime's <c>DOTNET_GC*</c> and <c>DOTNET_Tiered*</c> environment settings of this process, so that a report says which runtime configuration it measured.</param>
internal sealed record MachineInfo(string Processor, int ProcessorCount, long MemoryBytes, string Os, string Runtime, IReadOnlyDictionary<string, string> RuntimeSettings)
{
    public static MachineInfo Current() => new(
        ProcessorName(),
        Environment.ProcessorCount,
        GC.GetGCMemoryInfo().TotalAvailableMemoryBytes,
        RuntimeInformation.OSDescription,
        RuntimeInformation.FrameworkDescription,
        RuntimeEnvironment());

    private static SortedDictionary<string, string> RuntimeEnvironment()
    {
        var settings = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry variable in Environment.GetEnvironmentVariables())
        {
            if (variable.Key is string name && (name.StartsWith("DOTNET_GC", StringComparison.OrdinalIgnoreCase) || name.StartsWith("DOTNET_Tiered", StringComparison.OrdinalIgnoreCase)))
            {
                settings[name] = variable.Value as string ?? "";
            }
        }

        return settings;
    }

    private static string ProcessorName()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? RuntimeInformation.ProcessArchitecture.ToString() : line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return RuntimeInformation.ProcessArchitecture.ToString();
        }
    }
}
