namespace Cairn.Storage;

/// <summary>A run to create.</summary>
/// <param name="Id">The new run's ID.</param>
/// <param name="FlowName">The flow's name.</param>
/// <param name="FlowVersion">The flow's version.</param>
/// <param name="RecoveryId">The caller's recovery ID, unique per flow.</param>
/// <param name="Input">The serialized input state.</param>
/// <param name="InputChecksum">The checksum of <paramref name="Input"/>; also tells two inputs apart.</param>
/// <param name="Settings">The run's settings captured at its first start (the retry policy), as JSON.</param>
/// <param name="ClaimFor">
/// When set, a run created now is created already claimed by this owner, as <see cref="RunStore.ClaimDueRunsAsync"/>
/// would claim it at once: the engine that starts a run with a free slot executes it without a claim of its own.
/// </param>
public sealed record NewRun(
    RunId Id,
    string FlowName,
    int FlowVersion,
    string RecoveryId,
    ReadOnlyMemory<byte> Input,
    string InputChecksum,
    string Settings,
    NewRunClaim? ClaimFor = null);

/// <summary>Who claims a run as it is created (see <see cref="NewRun.ClaimFor"/>), and for how long.</summary>
/// <param name="Owner">The node that claims it.</param>
/// <param name="LeaseDuration">The lease the owner holds until its heartbeat renews it.</param>
public sealed record NewRunClaim(string Owner, TimeSpan LeaseDuration);
