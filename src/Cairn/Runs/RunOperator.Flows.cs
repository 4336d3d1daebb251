using System.Text.Json;
using Cairn.Flows;

namespace Cairn.Runs;

public sealed partial class RunOperator
{
    /// <summary>
    /// Lists the flows engines have registered with the store, with their structure and recovery points: what a console
    /// draws without the flows' code. A flow whose structure changed under the same version is listed once per structure.
    /// A store without a flow catalog lists none.
    /// </summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<IReadOnlyList<FlowInfo>> ListFlowsAsync(CancellationToken cancellationToken = default)
    {
        if (_store is not IFlowCatalog catalog)
        {
            return [];
        }

        var records = await catalog.ListFlowsAsync(cancellationToken).ConfigureAwait(false);
        return [.. records.Select(ToInfo)];
    }

    private static FlowInfo ToInfo(FlowRecord record)
    {
        IReadOnlyList<FlowStepInfo> structure;
        try
        {
            structure = FlowStepInfo.FromJson(record.Structure);
        }
        catch (JsonException)
        {
            // Written by another version of Cairn in a form this one does not read: shown without its steps.
            structure = [];
        }

        return new FlowInfo(record.Name, record.Version, record.Fingerprint, structure, record.RecordedAt, record.RecordedBy);
    }
}
