using Microsoft.CodeAnalysis;

namespace Cairn.Analyzers;

/// <summary>The rules of Cairn's analyzers, one descriptor each (IDs CAIRN001 on, category "Cairn").</summary>
internal static class Descriptors
{
    private const string Category = "Cairn";

    /// <summary>CAIRN001: a flow's state type holds what cannot survive a checkpoint.</summary>
    public static readonly DiagnosticDescriptor StateNotCheckpointable = new(
        id: "CAIRN001",
        title: "A flow's state holds what cannot be saved in a checkpoint",
        messageFormat: "The flow state type '{0}' holds '{1}' of type '{2}', which cannot be saved in a checkpoint: keep it out of the state ([JsonIgnore] or a local of the stage), or pass the data as a stream (StageContext.Streams)",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "A recovery point saves the flow's state as a checkpoint and a resumed run reads it back, possibly in "
            + "another process. A stream, a database connection, transaction or command, an HttpContext or HttpClient, a "
            + "delegate, a task, a thread or a cancellation token is a live resource of the process that wrote it: it is not "
            + "serialized, or it is read back as something that no longer works. Keep such members out of the state: create "
            + "them inside the stage that uses them, mark them [JsonIgnore], or hand large data between stages as a run "
            + "stream (StageContext.Streams).");

    /// <summary>CAIRN002: a recovery point's name is not a compile-time constant.</summary>
    public static readonly DiagnosticDescriptor RecoveryPointNameNotConstant = new(
        id: "CAIRN002",
        title: "A recovery point's name is not a constant",
        messageFormat: "The recovery point's name is not a compile-time constant: a name that changes between runs breaks resume and changed-flow detection; use a string literal, a const or nameof",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "A run resumes at the recovery point whose name its checkpoint recorded, and the engine detects a "
            + "changed flow by comparing the recorded names with the flow's. A name computed at run time (a variable, a "
            + "method call, an interpolated string with non-constant parts) can differ between the process that saved the "
            + "checkpoint and the one that resumes it: the run then fails to resume or is reported as a changed flow. Name "
            + "recovery points with a string literal, a const or nameof.");
}
