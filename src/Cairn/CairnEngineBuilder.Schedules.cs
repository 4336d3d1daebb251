using Cairn.Schedules;

namespace Cairn;

public sealed partial class CairnEngineBuilder
{
    private readonly List<Func<StateSerializer, ScheduleRecord>> _schedules = [];
    private readonly List<(string Name, string Flow)> _scheduleNames = [];

    /// <summary>
    /// Adds a schedule defined in code: it starts a run of <paramref name="flow"/> with <paramref name="input"/> at every
    /// slot of <paramref name="spec"/>. At start-up the engine reconciles it with the store (created, or updated when
    /// changed; a pause set by an operator is kept). Each slot starts exactly one run across all nodes: the run's
    /// recovery ID is <c>schedule:NAME:SLOT</c> (the slot in UTC, ISO 8601). Also registers the flow.
    /// </summary>
    /// <param name="name">The schedule's name, unique in the store: letters, digits, '-', '_' and '.'.</param>
    /// <param name="flow">The flow to start.</param>
    /// <param name="input">The input of every run, serialized once when the engine is built.</param>
    /// <param name="spec">When: <see cref="ScheduleSpec.Cron"/> or <see cref="ScheduleSpec.Every"/>.</param>
    /// <param name="options">Missed and overlapping slots. Default: <see cref="ScheduleOptions"/>'s defaults (run once, skip).</param>
    /// <exception cref="ArgumentException">The name or the options are invalid.</exception>
    public CairnEngineBuilder AddSchedule<TState>(string name, Flow<TState> flow, TState input, ScheduleSpec spec, ScheduleOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(flow);
        ArgumentNullException.ThrowIfNull(spec);
        options ??= new ScheduleOptions();
        if (ScheduleNames.FindProblem(name) is { } problem)
        {
            throw new ArgumentException($"Schedule '{name}': {problem}.", nameof(name));
        }

        if (options.FindProblem() is { } invalid)
        {
            throw new ArgumentException($"Schedule '{name}' has invalid options: {invalid}.", nameof(options));
        }

        AddFlow(flow);
        _scheduleNames.Add((name, flow.Name));
        _schedules.Add(serializer => new ScheduleRecord(name, flow.Name, serializer.Serialize(input), spec) { Options = options, DefinedInCode = true });
        return this;
    }

    private void ValidateSchedules()
    {
        if (_scheduleNames.GroupBy(s => s.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            throw new InvalidOperationException($"Two schedules are named '{twice.Key}' (flows {string.Join(" and ", twice.Select(s => $"'{s.Flow}'"))}); schedule names must be unique.");
        }
    }
}
