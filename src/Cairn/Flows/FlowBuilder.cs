namespace Cairn.Flows;

/// <summary>
/// Builds a <see cref="Flow{TState}"/>: stages, recovery points, loops and branches in order, validated by
/// <see cref="Build"/>.
/// </summary>
/// <typeparam name="TState">The flow's state type.</typeparam>
public sealed class FlowBuilder<TState> : StepsBuilder<TState, FlowBuilder<TState>>
{
    private const int MaxNameLength = 100;

    private readonly string _name;
    private readonly int _version;
    private RetryPolicy? _retryPolicy;
    private bool _implicitRecovery;
    private Func<int, ReadOnlyMemory<byte>, TState>? _upgradeState;

    internal FlowBuilder(string name, int version)
    {
        _name = name;
        _version = version;
    }

    /// <summary>
    /// Puts a recovery point after every stage but the last of each sequence (the flow, each loop body, each branch
    /// path), named <c>after-STAGE</c>, where none is set.
    /// </summary>
    public FlowBuilder<TState> ImplicitRecovery(bool enabled = true)
    {
        _implicitRecovery = enabled;
        return this;
    }

    /// <summary>
    /// Converts states saved by older versions of this flow when their runs resume on this version: the hook receives the
    /// version the run started on and the serialized state (a checkpoint's, or the input if the run has none) and returns
    /// this version's state. Without it, an older state is deserialized as this version's type, and a run whose state no
    /// longer reads fails with an error naming both versions.
    /// </summary>
    /// <param name="upgrade">From the older version and its serialized state, this version's state.</param>
    public FlowBuilder<TState> UpgradeState(Func<int, ReadOnlyMemory<byte>, TState> upgrade)
    {
        ArgumentNullException.ThrowIfNull(upgrade);
        _upgradeState = upgrade;
        return this;
    }

    /// <summary>Sets the flow's retry policy. Default: the engine's <see cref="CairnOptions.DefaultRetryPolicy"/>.</summary>
    public FlowBuilder<TState> Retry(RetryPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        _retryPolicy = policy;
        return this;
    }

    /// <summary>Changes the engine's default retry policy for this flow.</summary>
    public FlowBuilder<TState> Retry(Func<RetryPolicy, RetryPolicy> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        _retryPolicy = configure(_retryPolicy ?? RetryPolicy.Default);
        return this;
    }

    /// <summary>Validates the definition and builds the immutable flow.</summary>
    /// <exception cref="FlowDefinitionException">The definition is invalid; the message lists every problem.</exception>
    public Flow<TState> Build()
    {
        var steps = _implicitRecovery ? WithImplicitRecoveryPoints(Steps) : [.. Steps];
        var problems = Validate(steps);
        if (problems.Count > 0)
        {
            throw new FlowDefinitionException(_name, _version, problems);
        }

        return new Flow<TState>(_name, _version, _retryPolicy, steps, _upgradeState);
    }

    private static List<FlowStep> WithImplicitRecoveryPoints(IReadOnlyList<FlowStep> steps)
    {
        var result = new List<FlowStep>(steps.Count * 2);
        for (var i = 0; i < steps.Count; i++)
        {
            // Into loops, branches and parallel branches; not into sub-flows, which were built with their own setting.
            result.Add(steps[i] is CompositeStep { Kind: not "sub-flow" } composite
                ? composite.WithBodies([.. composite.Bodies.Select(WithImplicitRecoveryPoints)])
                : steps[i]);
            var isLast = i == steps.Count - 1;
            if (steps[i].Kind == "stage" && !isLast && steps[i + 1] is not RecoveryPointStep)
            {
                result.Add(new RecoveryPointStep($"after-{steps[i].Name}", $"{steps[i].Name} done"));
            }
        }

        return result;
    }

    private List<string> Validate(List<FlowStep> steps)
    {
        var problems = new List<string>();
        if (!IsValidName(_name))
        {
            problems.Add($"the flow name '{_name}' is invalid: use 1 to {MaxNameLength} letters, digits, '-', '_' or '.'");
        }

        if (_version < 1)
        {
            problems.Add($"the version is {_version}; it must be 1 or more");
        }

        if (!FlowDefinition.Flatten(steps).Any(s => s.Kind == "stage"))
        {
            problems.Add("it has no stage");
        }

        ValidateSequence(steps, where: "", topLevel: true, new HashSet<string>(StringComparer.Ordinal), problems);

        // Reported with the other problems, so one build shows everything that is wrong.
        if (_retryPolicy?.FindProblem() is { } policyProblem)
        {
            problems.Add($"its retry policy is invalid: {policyProblem}");
        }

        return problems;
    }

    /// <param name="steps">One sequence: the flow's, a loop's body or a branch's path.</param>
    /// <param name="where">Where the sequence is, for messages: empty at the top, else " in loop 'x'".</param>
    /// <param name="topLevel">Whether this is the flow's own sequence, where the first and last steps have rules.</param>
    /// <param name="seen">Names already used anywhere in the flow.</param>
    /// <param name="problems">Where to add what is wrong.</param>
    private static void ValidateSequence(IReadOnlyList<FlowStep> steps, string where, bool topLevel, HashSet<string> seen, List<string> problems)
    {
        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            if (!IsValidName(step.Name))
            {
                problems.Add($"the {step.Kind} at position {i + 1}{where} has the invalid name '{step.Name}': use 1 to {MaxNameLength} letters, digits, '-', '_' or '.'");
            }
            else if (!seen.Add(step.Name))
            {
                problems.Add($"the name '{step.Name}' is used twice; names of stages, recovery points, loops and branches must be unique in the flow");
            }

            if (step is CompositeStep { Kind: "parallel" or "sub-flow" } parallel
                && parallel.Bodies.SelectMany(FlowDefinition.Flatten).FirstOrDefault(s => s.IsTransactional || s.DataSource is not null || s.HasCompensation) is { } inside)
            {
                problems.Add(
                    $"{(inside.IsTransactional || inside.DataSource is not null ? "transactional stage" : "stage")} '{inside.Name}' is inside {parallel.Kind} '{parallel.Name}'{where}: " +
                    "transactional stages and compensations are not supported inside parallel branches and inline sub-flows yet");
            }

            if (step is CompositeStep { Kind: "parallel" or "sub-flow" } holder
                && holder.Bodies.SelectMany(FlowDefinition.Flatten).FirstOrDefault(s => s is CompositeStep { Kind: "delay" or "signal" }) is { } wait)
            {
                problems.Add(
                    $"{wait.Kind} '{wait.Name}' is inside {holder.Kind} '{holder.Name}'{where}: a run waits for timers and signals as a whole, " +
                    "outside parallel branches and inline sub-flows (a detached sub-flow can wait)");
            }

            switch (step)
            {
                case RecoveryPointStep when topLevel && i == 0:
                    problems.Add($"recovery point '{step.Name}' comes before any stage; the input is saved when the run starts");
                    break;
                case RecoveryPointStep when i > 0 && steps[i - 1] is RecoveryPointStep:
                    problems.Add($"recovery points '{steps[i - 1].Name}' and '{step.Name}'{where} follow each other with no stage between them");
                    break;
                case RecoveryPointStep when topLevel && i == steps.Count - 1:
                    problems.Add($"recovery point '{step.Name}' is the last step; the result is saved when the run completes");
                    break;
                case { IsTransactional: true } when i == steps.Count - 1 || steps[i + 1] is not RecoveryPointStep:
                    problems.Add($"transactional stage '{step.Name}'{where} must be followed by a recovery point: its checkpoint commits in the stage's transaction");
                    break;

                case CompositeStep composite:
                    foreach (var problem in composite.Problems)
                    {
                        problems.Add($"{problem}{where}");
                    }

                    // A sub-flow's steps were validated when it was built, and its names are its own.
                    for (var body = 0; body < composite.Bodies.Count && composite.Kind != "sub-flow"; body++)
                    {
                        ValidateSequence(composite.Bodies[body], $" in {composite.BodyLabel(body)}", topLevel: false, seen, problems);
                    }

                    break;
            }
        }
    }

    private static bool IsValidName(string? name) =>
        !string.IsNullOrEmpty(name)
        && name.Length <= MaxNameLength
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}
