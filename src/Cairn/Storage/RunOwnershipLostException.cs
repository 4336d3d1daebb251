namespace Cairn.Storage;

/// <summary>
/// A fenced write was refused: the run was cancelled, or another node claimed it after this node's lease. The writer
/// must abandon the run.
/// </summary>
public sealed class RunOwnershipLostException : CairnException
{
    /// <summary>Creates the error.</summary>
    public RunOwnershipLostException(RunLease lease)
        : base($"Run {lease?.RunId} is no longer owned by '{lease?.Owner}' at lease epoch {lease?.Epoch}: it was cancelled or claimed by another node.")
    {
        ArgumentNullException.ThrowIfNull(lease);
        Lease = lease;
    }

    /// <summary>The lease that no longer holds.</summary>
    public RunLease Lease { get; }
}
