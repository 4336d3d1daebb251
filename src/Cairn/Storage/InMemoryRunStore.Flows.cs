namespace Cairn.Storage;

public sealed partial class InMemoryRunStore
{
    private readonly Dictionary<(string Name, int Version, string Fingerprint), FlowRecord> _flows = [];

    /// <inheritdoc />
    public Task RecordFlowsAsync(IReadOnlyList<FlowRecord> flows, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(flows);
        lock (_lock)
        {
            foreach (var flow in flows)
            {
                _flows[(flow.Name, flow.Version, flow.Fingerprint)] = flow;
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<FlowRecord>> ListFlowsAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<FlowRecord>>(
                [.. _flows.Values.OrderBy(f => f.Name, StringComparer.Ordinal).ThenBy(f => f.Version).ThenBy(f => f.RecordedAt)]);
        }
    }
}
