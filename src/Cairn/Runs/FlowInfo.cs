using Cairn.Flows;

namespace Cairn.Runs;

/// <summary>A flow an engine has registered, as the operator API reads it from the store (<see cref="RunOperator.ListFlowsAsync"/>).</summary>
/// <param name="Name">The flow's name.</param>
/// <param name="Version">The flow's version.</param>
/// <param name="Fingerprint">Its structure's fingerprint: runs started on this structure carry the same one.</param>
/// <param name="Structure">Its stages, recovery points and composite steps, in order.</param>
/// <param name="RecordedAt">When an engine last registered it.</param>
/// <param name="RecordedBy">The node name of that engine.</param>
public sealed record FlowInfo(string Name, int Version, string Fingerprint, IReadOnlyList<FlowStepInfo> Structure, DateTimeOffset RecordedAt, string RecordedBy)
{
    /// <summary>The names of its recovery points, depth first.</summary>
    public IReadOnlyList<string> RecoveryPoints => [.. FlowStepInfo.RecoveryPointsOf(Structure).Select(point => point.Name)];
}
