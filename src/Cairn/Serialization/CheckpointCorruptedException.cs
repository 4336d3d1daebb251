namespace Cairn.Serialization;

/// <summary>A stored checkpoint or input failed its checksum or cannot be read; it is kept as it is for inspection.</summary>
public sealed class CheckpointCorruptedException : CairnException
{
    internal CheckpointCorruptedException(string message)
        : base(message)
    {
    }

    /// <inheritdoc />
    public override bool IsPermanent => true;
}
