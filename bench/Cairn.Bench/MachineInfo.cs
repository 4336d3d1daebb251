using System.Runtime.InteropServices;

namespace Cairn.Bench;

/// <summary>The machine a benchmark ran on, as far as the process can tell.</summary>
internal sealed record MachineInfo(string Processor, int ProcessorCount, long MemoryBytes, string Os, string Runtime)
{
    public static MachineInfo Current() => new(
        ProcessorName(),
        Environment.ProcessorCount,
        GC.GetGCMemoryInfo().TotalAvailableMemoryBytes,
        RuntimeInformation.OSDescription,
        RuntimeInformation.FrameworkDescription);

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
