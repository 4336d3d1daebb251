using System.Security.Cryptography;

namespace Cairn.CrashTest.Harness;

/// <summary>
/// A crash-test flow: its steps laid out as the flow builder lays them out (so step indexes match the engine's), the
/// pure change each stage makes to the state, and the flow itself built around those changes.
/// </summary>
internal sealed class CrashFlowPlan
{
    private const int CpuRounds = 400;
    private const int GrowUnit = 1024;

    private readonly IReadOnlyList<CrashStep> _declared;
    private readonly bool _implicitRecovery;
    private readonly Dictionary<string, int> _indexes;

    private CrashFlowPlan(string name, bool implicitRecovery, IReadOnlyList<CrashStep> declared)
    {
        Name = name;
        _implicitRecovery = implicitRecovery;
        _declared = declared;
        Steps = implicitRecovery ? WithImplicitPoints(declared) : declared;
        _indexes = Steps.Select((step, index) => (step.Name, index)).ToDictionary(p => p.Name, p => p.index, StringComparer.Ordinal);
        LastStage = Steps.Last(s => !s.IsRecoveryPoint).Name;
    }

    public string Name { get; }

    /// <summary>Every step, recovery points included, at the index the engine gives it.</summary>
    public IReadOnlyList<CrashStep> Steps { get; }

    public string LastStage { get; }

    public int StageCount => Steps.Count(s => !s.IsRecoveryPoint);

    public int PointCount => Steps.Count(s => s.IsRecoveryPoint);

    public bool ImplicitRecovery => _implicitRecovery;

    public static CrashFlowPlan Define(string name, bool implicitRecovery, params CrashStep[] steps) => new(name, implicitRecovery, steps);

    /// <summary>The index of a stage or recovery point, or -1 when the flow has no step of that name.</summary>
    public int IndexOf(string name) => _indexes.TryGetValue(name, out var index) ? index : -1;

    public CrashState Input(int seed, int round, int run) => new()
    {
        Flow = Name,
        Round = round,
        Run = run,
        Counter = unchecked((seed * 1_000_000_007L) + (round * 10_007L) + run),
    };

    /// <summary>The state a run of this flow must end with, computed without the engine.</summary>
    public CrashState Expected(CrashState input)
    {
        var state = new CrashState
        {
            Flow = input.Flow,
            Round = input.Round,
            Run = input.Run,
            Trail = [.. input.Trail],
            Counter = input.Counter,
            Digest = input.Digest,
            Blocks = [.. input.Blocks],
        };
        for (var i = 0; i < Steps.Count; i++)
        {
            if (!Steps[i].IsRecoveryPoint)
            {
                Apply(state, i);
            }
        }

        return state;
    }

    /// <summary>
    /// Builds the flow. <paramref name="insideStage"/> is awaited in the middle of every stage, after its own work and
    /// before it changes the state: the worker uses it to stop a stage and wait to be killed.
    /// </summary>
    public Flow<CrashState> Build(Func<StageContext<CrashState>, CancellationToken, Task> insideStage)
    {
        var builder = Flow.Create<CrashState>(Name)
            .Retry(new RetryPolicy { MaxRetries = 2, Interval = TimeSpan.FromMilliseconds(200), BackoffFactor = 1 });
        foreach (var step in _declared)
        {
            if (step.IsRecoveryPoint)
            {
                // The plan's names are fixed by its table; the same plan builds the same flow on every node.
#pragma warning disable CAIRN002
                builder.RecoveryPoint(step.Name, $"{step.Name} reached");
#pragma warning restore CAIRN002
                continue;
            }

            var index = IndexOf(step.Name);
            var work = step.Work;
            builder.Stage(step.Name, async (context, ct) =>
            {
                switch (work)
                {
                    case StageWork.Async:
                        // Random on purpose: stages may be non-deterministic, only their effect on the state may not.
                        await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 8)), ct);
                        break;
                    case StageWork.Grow:
                        await Task.Yield();
                        break;
                }

                await insideStage(context, ct);
                Apply(context.State, index);
            });
        }

        var flow = builder.ImplicitRecovery(_implicitRecovery).Build();

        // The invariant checker reasons about step indexes; they must be the ones the engine uses.
        if (!flow.StageNames.SequenceEqual(Steps.Where(s => !s.IsRecoveryPoint).Select(s => s.Name), StringComparer.Ordinal)
            || !flow.RecoveryPointNames.SequenceEqual(Steps.Where(s => s.IsRecoveryPoint).Select(s => s.Name), StringComparer.Ordinal))
        {
            throw new InvalidOperationException($"The crash-test flow '{Name}' is not laid out as its plan says.");
        }

        return flow;
    }

    /// <summary>The change stage <paramref name="index"/> makes: a pure function of the state.</summary>
    public void Apply(CrashState state, int index)
    {
        var step = Steps[index];
        state.Trail.Add(step.Name);
        state.Counter = unchecked((state.Counter * 1_000_003L) + ((index + 1) * 7_919L) + state.Trail.Count);
        switch (step.Work)
        {
            case StageWork.Cpu:
                var bytes = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{state.Digest}/{state.Counter}"));
                for (var i = 0; i < CpuRounds; i++)
                {
                    bytes = SHA256.HashData(bytes);
                }

                state.Digest = Convert.ToHexStringLower(bytes.AsSpan(0, 8));
                break;
            case StageWork.Grow:
                state.Blocks.Add(Block(state.Counter, GrowUnit * (1 + (state.Run % 16))));
                break;
        }
    }

    private static string Block(long counter, int length)
    {
        var text = new StringBuilder(length + 64);
        var hash = BitConverter.GetBytes(counter);
        while (text.Length < length)
        {
            hash = SHA256.HashData(hash);
            text.Append(Convert.ToHexStringLower(hash));
        }

        return text.ToString(0, length);
    }

    // The builder's rule for ImplicitRecovery: a point named after-STAGE after every stage but the last, where none is set.
    private static List<CrashStep> WithImplicitPoints(IReadOnlyList<CrashStep> declared)
    {
        var steps = new List<CrashStep>();
        for (var i = 0; i < declared.Count; i++)
        {
            steps.Add(declared[i]);
            if (!declared[i].IsRecoveryPoint && i < declared.Count - 1 && !declared[i + 1].IsRecoveryPoint)
            {
                steps.Add(CrashStep.Point($"after-{declared[i].Name}"));
            }
        }

        return steps;
    }
}
