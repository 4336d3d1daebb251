namespace Cairn;

public sealed partial class CairnEngine
{
    private void Register(FlowDefinition flow)
    {
        if (Store is not ITransactionalRunStore && FlowDefinition.Flatten(flow.Steps).FirstOrDefault(s => s.NeedsStoreTransaction) is { } transactional)
        {
            var what = transactional.IsTransactional ? "the transactional stage" : "a transactional compensation on stage";
            throw new InvalidOperationException(
                $"Flow {flow} has {what} '{transactional.Name}', which runs in a transaction of the store's database, and the store " +
                $"{Store.GetType().Name} has none: use the SQLite or PostgreSQL store.");
        }

        foreach (var child in FlowDefinition.Flatten(flow.Steps).OfType<CompositeStep>().Select(s => s.DetachedChild).OfType<FlowDefinition>())
        {
            Register(child);
        }

        while (true)
        {
            if (!_flows.TryGetValue(flow.Name, out var registered))
            {
                if (_flows.TryAdd(flow.Name, new FlowVersions([flow])))
                {
                    return;
                }

                continue;
            }

            if (registered.Exact(flow.Version) is { } same)
            {
                if (!ReferenceEquals(same, flow))
                {
                    throw new InvalidOperationException(
                        $"A different definition of flow '{flow}' is already registered with this engine; give the new one another name or version.");
                }

                return;
            }

            if (_flows.TryUpdate(flow.Name, registered.With(flow), registered))
            {
                Log.FlowVersionAdded(_logger, flow.Name, flow.Version, registered.Newest.Version);
                return;
            }
        }
    }

    /// <summary>The definition a run of <paramref name="flowName"/> v<paramref name="version"/> resumes on, or null.</summary>
    internal FlowDefinition? DefinitionFor(string flowName, int version) =>
        _flows.TryGetValue(flowName, out var versions) ? versions.For(version) : null;

    /// <summary>The versions of one flow registered with the engine, oldest first. Immutable.</summary>
    private sealed class FlowVersions(IReadOnlyList<FlowDefinition> all)
    {
        public IReadOnlyList<FlowDefinition> All { get; } = all;

        public FlowDefinition Newest => All[^1];

        public FlowDefinition? Exact(int version) => All.FirstOrDefault(f => f.Version == version);

        /// <summary>The run's own version when registered, else the newest if it is newer than the run's; null if the run is newer than all.</summary>
        public FlowDefinition? For(int version) => Exact(version) ?? (Newest.Version > version ? Newest : null);

        public FlowVersions With(FlowDefinition flow) => new([.. All.Append(flow).OrderBy(f => f.Version)]);
    }

    /// <summary>Records the registered flows with their structure in the store's catalog, where it has one, for operators' tools.</summary>
    private async Task RecordFlowsAsync(CancellationToken cancellationToken)
    {
        if (Store is not IFlowCatalog catalog)
        {
            return;
        }

        var now = TimeProvider.GetUtcNow();
        await catalog.RecordFlowsAsync(
            [.. _flows.Values.SelectMany(versions => versions.All).Select(flow => new FlowRecord(
                flow.Name, flow.Version, flow.Fingerprint, FlowStepInfo.ToJson(flow.Structure), now, NodeName))],
            cancellationToken).ConfigureAwait(false);
    }

    private async Task WarnAboutUnknownFlowsAsync(CancellationToken cancellationToken)
    {
        // Counted first, by the store: at a restart every unfinished run is usually of a known flow, and listing them
        // (10,000 rows) to find none cost more than all the rest of the start. Listed only when some are of another flow.
        var query = new RunQuery { Statuses = [RunStatus.Pending, RunStatus.WaitingForRetry, RunStatus.Interrupted, RunStatus.Waiting] };
        var unknown = (await _queries.CountRunsAsync(query, cancellationToken).ConfigureAwait(false)).Values.Sum();
        foreach (var name in _flows.Keys)
        {
            unknown -= (await _queries.CountRunsAsync(query with { FlowName = name }, cancellationToken).ConfigureAwait(false)).Values.Sum();
        }

        if (unknown <= 0)
        {
            return;
        }

        var unfinished = await _queries.ListRunsAsync(query with { Limit = 10_000 }, cancellationToken).ConfigureAwait(false);
        foreach (var group in unfinished.Where(r => !_flows.ContainsKey(r.FlowName)).GroupBy(r => r.FlowName))
        {
            Log.UnknownFlowRuns(_logger, group.Count(), group.Key);
        }
    }
}
