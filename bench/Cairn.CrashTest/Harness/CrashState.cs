namespace Cairn.CrashTest.Harness;

/// <summary>
/// The state every crash-test flow works on. Each stage changes it by a pure function of the state itself, so the
/// final state of a run is known in advance whatever crashes and resumes happened on the way.
/// </summary>
internal sealed class CrashState
{
    public string Flow { get; set; } = "";

    public int Round { get; set; }

    public int Run { get; set; }

    /// <summary>The stages applied, in order: a stage skipped or applied twice shows here.</summary>
    public List<string> Trail { get; set; } = [];

    public long Counter { get; set; }

    public string Digest { get; set; } = "";

    /// <summary>Grows at the growing stages, so checkpoints of different sizes are written and restored.</summary>
    public List<string> Blocks { get; set; } = [];
}
