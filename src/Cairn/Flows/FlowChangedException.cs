namespace Cairn.Flows;

/// <summary>A run cannot resume because its flow's definition changed under it.</summary>
public sealed class FlowChangedException : CairnException
{
    internal FlowChangedException(string message)
        : base(message)
    {
    }

    /// <inheritdoc />
    public override bool IsPermanent => true;
}
