using System.Diagnostics.Metrics;

namespace Cairn.Tests.Support;

/// <summary>An <see cref="IMeterFactory"/> as the container's: its meters are scoped to it, so a collector sees only them.</summary>
public sealed class TestMeterFactory : IMeterFactory
{
    private readonly List<Meter> _meters = [];

    public Meter Create(MeterOptions options)
    {
        options.Scope = this;
        var meter = new Meter(options);
        _meters.Add(meter);
        return meter;
    }

    public void Dispose()
    {
        foreach (var meter in _meters)
        {
            meter.Dispose();
        }
    }
}
