namespace Cairn.CrashTest.Harness;

/// <summary>
/// How one worker process will be killed: after <see cref="Delay"/> (<see cref="KillMoment.Startup"/>,
/// <see cref="KillMoment.Random"/>), or at the <see cref="TargetAt"/>-th event of its kind in the worker (the targeted moments).
/// </summary>
internal sealed record KillPlan(KillMoment Moment, TimeSpan Delay = default, int TargetAt = 0, TimeSpan Jitter = default)
{
    public static KillPlan None { get; } = new(KillMoment.None);

    public bool IsTargeted => Moment is KillMoment.Stage or KillMoment.Checkpoint or KillMoment.Commit;

    public override string ToString() => Moment switch
    {
        KillMoment.None => "no kill",
        KillMoment.Startup => $"{Delay.TotalMilliseconds:F0} ms after start",
        KillMoment.Random => $"{Delay.TotalMilliseconds:F0} ms after ready",
        KillMoment.Stage => $"inside stage #{TargetAt}",
        KillMoment.Checkpoint => $"during checkpoint #{TargetAt}",
        _ => $"during completion #{TargetAt}",
    };
}
