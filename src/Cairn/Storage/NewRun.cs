namespace Cairn.Storage;

/// <summary>A run to create.</summary>
/// <param name="Id">The new run's ID.</param>
/// <param name="FlowName">The flow's name.</param>
/// <param name="FlowVersion">The flow's version.</param>
/// <param name="RecoveryId">The caller's recovery ID, unique per flow.</param>
/// <param name="Input">The serialized input state.</param>
/// <param name="InputChecksum">The checksum of <paramref name="Input"/>; also tells two inputs apart.</param>
/// <param name="Settings">The run's settings captured at its first start (the retry policy), as JSON.</param>
public sealed record NewRun(
    RunId Id,
    string FlowName,
    int FlowVersion,
    string RecoveryId,
    ReadOnlyMemory<byte> Input,
    string InputChecksum,
    string Settings);
