namespace Cairn;

/// <summary>Builds a <see cref="Flow{TState}"/>: stages and recovery points in order, validated by <see cref="Build"/>.</summary>
/// <typeparam name="TState">The flow's state type.</typeparam>
public sealed class FlowBuilder<TState>
{
    private const int MaxNameLength = 100;

    private readonly string _name;
    private readonly int _version;
    private readonly List<FlowStep> _steps = [];
    private RetryPolicy? _retryPolicy;
    private bool _implicitRecovery;

    internal FlowBuilder(string name, int version)
    {
        _name = name;
        _version = version;
    }

    /// <summary>Adds a stage written as a delegate.</summary>
    public FlowBuilder<TState> Stage(string name, Func<StageContext<TState>, CancellationToken, Task> execute)
    {
        ArgumentNullException.ThrowIfNull(execute);
        _steps.Add(new StageStep<TState>(name, execute));
        return this;
    }

    /// <summary>Adds a stage written as a class instance.</summary>
    public FlowBuilder<TState> Stage(string name, IStage<TState> stage)
    {
        ArgumentNullException.ThrowIfNull(stage);
        _steps.Add(new StageStep<TState>(name, stage.ExecuteAsync));
        return this;
    }

    /// <summary>Adds a stage written as a class with a parameterless constructor; one instance serves every run.</summary>
    public FlowBuilder<TState> Stage<TStage>(string name) where TStage : IStage<TState>, new() => Stage(name, new TStage());

    /// <summary>Adds a recovery point: passing it saves the state, and a failed run resumes after it.</summary>
    /// <param name="name">The recovery point's name, unique in the flow.</param>
    /// <param name="statusMessage">A short text shown in the status list once the point is passed ("SELECT successful").</param>
    public FlowBuilder<TState> RecoveryPoint(string name, string? statusMessage = null)
    {
        _steps.Add(new RecoveryPointStep(name, statusMessage));
        return this;
    }

    /// <summary>Puts a recovery point after every stage but the last, named <c>after-STAGE</c>, where none is set.</summary>
    public FlowBuilder<TState> ImplicitRecovery(bool enabled = true)
    {
        _implicitRecovery = enabled;
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
        var steps = _implicitRecovery ? WithImplicitRecoveryPoints(_steps) : [.. _steps];
        var problems = Validate(steps);
        if (problems.Count > 0)
        {
            throw new FlowDefinitionException(_name, _version, problems);
        }

        return new Flow<TState>(_name, _version, _retryPolicy, steps);
    }

    private static List<FlowStep> WithImplicitRecoveryPoints(List<FlowStep> steps)
    {
        var result = new List<FlowStep>(steps.Count * 2);
        for (var i = 0; i < steps.Count; i++)
        {
            result.Add(steps[i]);
            var isLast = i == steps.Count - 1;
            if (steps[i] is not RecoveryPointStep && !isLast && steps[i + 1] is not RecoveryPointStep)
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

        if (!steps.Any(s => s is not RecoveryPointStep))
        {
            problems.Add("it has no stage");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            var kind = step is RecoveryPointStep ? "recovery point" : "stage";
            if (!IsValidName(step.Name))
            {
                problems.Add($"the {kind} at position {i + 1} has the invalid name '{step.Name}': use 1 to {MaxNameLength} letters, digits, '-', '_' or '.'");
            }
            else if (!seen.Add(step.Name))
            {
                problems.Add($"the name '{step.Name}' is used twice; stage and recovery point names must be unique");
            }

            if (step is RecoveryPointStep)
            {
                if (i == 0)
                {
                    problems.Add($"recovery point '{step.Name}' comes before any stage; the input is saved when the run starts");
                }
                else if (steps[i - 1] is RecoveryPointStep)
                {
                    problems.Add($"recovery points '{steps[i - 1].Name}' and '{step.Name}' follow each other with no stage between them");
                }
                else if (i == steps.Count - 1)
                {
                    problems.Add($"recovery point '{step.Name}' is the last step; the result is saved when the run completes");
                }
            }
        }

        // Reported with the other problems, so one build shows everything that is wrong.
        if (_retryPolicy?.FindProblem() is { } policyProblem)
        {
            problems.Add($"its retry policy is invalid: {policyProblem}");
        }

        return problems;
    }

    private static bool IsValidName(string? name) =>
        !string.IsNullOrEmpty(name)
        && name.Length <= MaxNameLength
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}
