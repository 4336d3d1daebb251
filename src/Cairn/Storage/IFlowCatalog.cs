namespace Cairn.Storage;

/// <summary>
/// A store that keeps the flows engines have registered, with their structure, so that operators' tools (a console)
/// can show a flow's stages and recovery points without the flow's code. An engine records its flows when it starts.
/// </summary>
public interface IFlowCatalog
{
    /// <summary>
    /// Records flows: one row per name, version and fingerprint (a changed structure under the same version is a row of
    /// its own); a row already there gets the new time and node.
    /// </summary>
    /// <param name="flows">The flows, as an engine registered them.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="StoreUnavailableException">The store cannot be reached.</exception>
    Task RecordFlowsAsync(IReadOnlyList<FlowRecord> flows, CancellationToken cancellationToken);

    /// <summary>Every recorded flow, by name, then version, then the time it was last recorded.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="StoreUnavailableException">The store cannot be reached.</exception>
    Task<IReadOnlyList<FlowRecord>> ListFlowsAsync(CancellationToken cancellationToken);
}

/// <summary>A flow as a store keeps it (<see cref="IFlowCatalog"/>).</summary>
/// <param name="Name">The flow's name.</param>
/// <param name="Version">The flow's version.</param>
/// <param name="Fingerprint">Its structure's fingerprint (<see cref="Flows.FlowDefinition.Fingerprint"/>).</param>
/// <param name="Structure">Its structure as JSON (<see cref="Flows.FlowDefinition.Structure"/>); opaque to the store.</param>
/// <param name="RecordedAt">When an engine last recorded it.</param>
/// <param name="RecordedBy">The node name of that engine.</param>
public sealed record FlowRecord(string Name, int Version, string Fingerprint, string Structure, DateTimeOffset RecordedAt, string RecordedBy);
