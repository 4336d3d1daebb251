namespace Cairn.CrashTest.Chaos;

/// <summary>
/// The faults of a soak, drawn from a seeded <see cref="Random"/> before it starts: the same seed, duration, kinds,
/// node count and lease give the same schedule. Each kind comes once, in a shuffled order, in the first 70% of the
/// soak (so that a short soak has every kind), then faults of random kinds follow at random intervals (5 s on
/// average) until a few seconds before the end. A node is never the target while an earlier fault on it lasts.
/// </summary>
internal static class FaultSchedule
{
    private static readonly TimeSpan FirstFault = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan QuietEnd = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MeanInterval = TimeSpan.FromSeconds(5);

    // Starting a node again takes a couple of seconds: a killed node is left alone for that long.
    private static readonly TimeSpan RestartTime = TimeSpan.FromSeconds(4);

    public static IReadOnlyList<ScheduledFault> Create(int seed, TimeSpan duration, IReadOnlyList<FaultKind> kinds, int nodes, TimeSpan lease)
    {
        var random = new Random(seed);
        var busyUntil = new TimeSpan[nodes];
        var faults = new List<ScheduledFault>();
        if (kinds.Count == 0)
        {
            return faults;
        }

        var first = kinds.OrderBy(_ => random.Next()).ToList();
        var gap = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(8).Ticks, (long)((duration.Ticks * 0.7 - FirstFault.Ticks) / first.Count)));
        for (var i = 0; i < first.Count; i++)
        {
            var at = FirstFault + gap * i + TimeSpan.FromMilliseconds(random.Next((int)(gap.TotalMilliseconds / 2)));
            Add(first[i], at);
        }

        var time = faults.Count > 0 ? faults[^1].At : FirstFault;
        while (true)
        {
            time += TimeSpan.FromSeconds(-Math.Log(1 - random.NextDouble()) * MeanInterval.TotalSeconds);
            if (time > duration - QuietEnd)
            {
                break;
            }

            Add(kinds[random.Next(kinds.Count)], time);
        }

        return faults;

        void Add(FaultKind kind, TimeSpan at)
        {
            var hold = kind switch
            {
                FaultKind.NodePause => lease + TimeSpan.FromMilliseconds(500 + random.Next(2000)),
                FaultKind.StorageFill => TimeSpan.FromMilliseconds(1500 + random.Next(2500)),
                _ => TimeSpan.Zero,
            };
            var node = -1;
            if (kind is FaultKind.NodeKill or FaultKind.NodePause)
            {
                var free = Enumerable.Range(0, nodes).Where(n => busyUntil[n] <= at).ToList();
                if (free.Count == 0)
                {
                    return;
                }

                node = free[random.Next(free.Count)];
                busyUntil[node] = at + hold + RestartTime;
            }

            faults.Add(new ScheduledFault(at, kind, node, hold, random.Next()));
        }
    }
}
