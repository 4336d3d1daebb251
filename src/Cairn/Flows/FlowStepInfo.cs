using System.Text.Json;

namespace Cairn.Flows;

/// <summary>
/// One step of a flow's structure as people and tools see it (a console's flow diagram, <see cref="FlowDefinition.Structure"/>):
/// its kind and name, and for a composite step (loop, branch, parallel step, sub-flow) the bodies it runs.
/// </summary>
/// <param name="Kind">"stage", "recovery point", "loop", "branch", "parallel", "sub-flow" or "detached sub-flow".</param>
/// <param name="Name">The step's name, unique in the flow.</param>
public sealed record FlowStepInfo(string Kind, string Name)
{
    /// <summary>A recovery point's status message; null for other steps.</summary>
    public string? StatusMessage { get; init; }

    /// <summary>Whether the stage runs in a transaction that commits with the recovery point after it, or with its completion record.</summary>
    public bool Transactional { get; init; }

    /// <summary>Whether the stage has a compensation.</summary>
    public bool Compensated { get; init; }

    /// <summary>The application data source a stage is bound to, by its name; null when none.</summary>
    public string? DataSource { get; init; }

    /// <summary>A detached sub-flow's child flow, by its name; null for other steps.</summary>
    public string? ChildFlow { get; init; }

    /// <summary>A composite step's bodies in order; empty for other steps.</summary>
    public IReadOnlyList<FlowBodyInfo> Bodies { get; init; } = [];

    /// <summary>The recovery points of <paramref name="steps"/> and of every body inside them, depth first.</summary>
    public static IEnumerable<FlowStepInfo> RecoveryPointsOf(IEnumerable<FlowStepInfo> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        foreach (var step in steps)
        {
            if (step.Kind == "recovery point")
            {
                yield return step;
            }

            foreach (var inner in step.Bodies.SelectMany(body => RecoveryPointsOf(body.Steps)))
            {
                yield return inner;
            }
        }
    }

    internal static IReadOnlyList<FlowStepInfo> Describe(IEnumerable<FlowStep> steps) => [.. steps.Select(Describe)];

    internal static string ToJson(IReadOnlyList<FlowStepInfo> structure) => JsonSerializer.Serialize(structure, JsonOptions);

    /// <exception cref="JsonException">The text is not a structure.</exception>
    internal static IReadOnlyList<FlowStepInfo> FromJson(string json) => JsonSerializer.Deserialize<List<FlowStepInfo>>(json, JsonOptions) ?? [];

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault,
    };

    private static FlowStepInfo Describe(FlowStep step) => step switch
    {
        RecoveryPointStep point => new(step.Kind, step.Name) { StatusMessage = point.StatusMessage },
        CompositeStep composite => new(step.Kind, step.Name)
        {
            ChildFlow = composite.DetachedChild?.Name,
            Bodies = [.. composite.Bodies.Select((body, i) => new FlowBodyInfo(composite.BodyName(i), Describe(body)))],
        },
        _ => new(step.Kind, step.Name) { Transactional = step.IsTransactional || step.DataSource is not null, Compensated = step.HasCompensation, DataSource = step.DataSource?.Name },
    };
}

/// <summary>One body of a composite step: a loop's body, a branch's path, a parallel step's branch or a sub-flow.</summary>
/// <param name="Label">The path's or branch's name; null for a loop's body.</param>
/// <param name="Steps">The body's steps.</param>
public sealed record FlowBodyInfo(string? Label, IReadOnlyList<FlowStepInfo> Steps);
