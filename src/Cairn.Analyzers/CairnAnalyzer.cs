using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Cairn.Analyzers;

/// <summary>
/// What Cairn's analyzers share: one diagnostic each, generated code left alone, concurrent execution, and the analysis
/// registered once per compilation, where the compilation's Cairn types can be looked up.
/// </summary>
public abstract class CairnAnalyzer : DiagnosticAnalyzer
{
    /// <summary>Creates the analyzer of one diagnostic.</summary>
    protected CairnAnalyzer(DiagnosticDescriptor descriptor) => SupportedDiagnostics = ImmutableArray.Create(descriptor);

    /// <inheritdoc />
    public sealed override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; }

    /// <inheritdoc />
    public sealed override void Initialize(AnalysisContext context)
    {
        if (context is null)
        {
            throw new System.ArgumentNullException(nameof(context));
        }

        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(OnCompilationStart);
    }

    /// <summary>Looks up the compilation's Cairn types and registers the analysis; registers nothing where Cairn is not referenced.</summary>
    protected abstract void OnCompilationStart(CompilationStartAnalysisContext start);
}
