using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Cairn.Bench;

/// <summary>
/// Samples this process's managed allocations by type from the runtime's own events (<c>GCAllocationTick</c>: one event
/// about every 100 KB allocated, naming the type of the object that crossed the mark), to find what a write allocates.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const string RuntimeSource = "Microsoft-Windows-DotNETRuntime";
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private const int AllocationTickEventId = 10;
    private readonly ConcurrentDictionary<string, long> _bytesByType = new(StringComparer.Ordinal);

    /// <summary>Whether sampling is on; off until <see cref="Start"/>.</summary>
    public bool Sampling { get; private set; }

    public void Start()
    {
        _bytesByType.Clear();
        Sampling = true;
    }

    public void Stop() => Sampling = false;

    /// <summary>The sampled types with the most bytes, and each one's share of all sampled bytes.</summary>
    public IReadOnlyList<(string Type, double Share)> Top(int count)
    {
        var total = (double)Math.Max(1, _bytesByType.Values.Sum());
        return [.. _bytesByType.OrderByDescending(p => p.Value).Take(count).Select(p => (p.Key, p.Value / total))];
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == RuntimeSource)
        {
            EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!Sampling || eventData.EventId != AllocationTickEventId || eventData.PayloadNames is not { } names || eventData.Payload is not { } payload)
        {
            return;
        }

        var type = names.IndexOf("TypeName") is >= 0 and var t ? payload[t] as string ?? "?" : "?";
        var amount = names.IndexOf("AllocationAmount64") is >= 0 and var a ? Convert.ToInt64(payload[a], CultureInfo.InvariantCulture) : 100_000;
        _bytesByType.AddOrUpdate(type, amount, (_, sum) => sum + amount);
    }
}
