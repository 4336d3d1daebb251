namespace Cairn.Tests.Support;

/// <summary>The state of the test flows: a trace of the stages that changed it, and members for serialization tests.</summary>
public sealed class TestState : ITraced
{
    public List<string> Trace { get; set; } = [];

    public int Value { get; set; }

    public string? Payload { get; set; }

    /// <summary>Null serializes; a delegate does not.</summary>
    public Func<int>? Callback { get; set; }

    /// <summary>Null serializes; an <see cref="IntPtr"/> does not.</summary>
    public object? Attachment { get; set; }
}
