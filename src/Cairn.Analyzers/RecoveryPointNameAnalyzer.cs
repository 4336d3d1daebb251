using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Cairn.Analyzers;

/// <summary>
/// CAIRN002: reports a call of <c>RecoveryPoint(name, statusMessage)</c> on Cairn's steps builders (the flow builder, a
/// branch or a parallel slice's body) whose name is not a compile-time constant.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class RecoveryPointNameAnalyzer : CairnAnalyzer
{
    /// <summary>Creates the analyzer.</summary>
    public RecoveryPointNameAnalyzer()
        : base(Descriptors.RecoveryPointNameNotConstant)
    {
    }

    /// <inheritdoc />
    protected override void OnCompilationStart(CompilationStartAnalysisContext start)
    {
        var stepsBuilder = start.Compilation.GetTypeByMetadataName("Cairn.Flows.StepsBuilder`2");
        if (stepsBuilder is not null)
        {
            start.RegisterOperationAction(c => AnalyzeInvocation(c, stepsBuilder), OperationKind.Invocation);
        }
    }

    private static void AnalyzeInvocation(OperationAnalysisContext context, INamedTypeSymbol stepsBuilder)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var method = invocation.TargetMethod;
        if (method.Name != "RecoveryPoint" || !IsOnStepsBuilder(method.ContainingType, stepsBuilder))
        {
            return;
        }

        foreach (var argument in invocation.Arguments)
        {
            if (argument.Parameter is { Ordinal: 0 } && !argument.Value.ConstantValue.HasValue)
            {
                context.ReportDiagnostic(Diagnostic.Create(Descriptors.RecoveryPointNameNotConstant, argument.Value.Syntax.GetLocation()));
            }
        }
    }

    private static bool IsOnStepsBuilder(INamedTypeSymbol? type, INamedTypeSymbol stepsBuilder)
    {
        for (var current = type; current is not null; current = current.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(current.OriginalDefinition, stepsBuilder))
            {
                return true;
            }
        }

        return false;
    }
}
