using System.Collections.Concurrent;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Cairn.Analyzers;

/// <summary>
/// CAIRN001: reports a flow whose state type (the <c>TState</c> of <c>Flow.Create&lt;TState&gt;</c>) holds, in a member that
/// is serialized, a value that cannot be saved in a checkpoint: a stream, a database connection, transaction or command,
/// an HttpContext or HttpClient, a delegate, a task, a thread or a cancellation token.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class FlowStateAnalyzer : CairnAnalyzer
{
    // Live resources of a process, found by metadata name (with what derives from them).
    private static readonly string[] ForbiddenMetadataNames =
    [
        "System.IO.Stream",
        "System.Data.Common.DbConnection",
        "System.Data.Common.DbTransaction",
        "System.Data.Common.DbCommand",
        "System.Threading.Tasks.Task",
        "System.Threading.Tasks.ValueTask",
        "System.Threading.Tasks.ValueTask`1",
        "System.Threading.CancellationToken",
        "System.Threading.CancellationTokenSource",
        "System.Net.Http.HttpClient",
        "System.Threading.Thread",
    ];

    // Names as a reader writes them: 'Stream', not 'Stream?'.
    private static readonly SymbolDisplayFormat ShortName = SymbolDisplayFormat.MinimallyQualifiedFormat
        .RemoveMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    // Matched by name: the application may not reference ASP.NET Core at all.
    private const string HttpContextName = "Microsoft.AspNetCore.Http.HttpContext";

    /// <summary>Creates the analyzer.</summary>
    public FlowStateAnalyzer()
        : base(Descriptors.StateNotCheckpointable)
    {
    }

    /// <inheritdoc />
    protected override void OnCompilationStart(CompilationStartAnalysisContext start)
    {
        var compilation = start.Compilation;
        var flow = compilation.GetTypeByMetadataName("Cairn.Flows.Flow");
        if (flow is null)
        {
            return;
        }

        var forbidden = ForbiddenMetadataNames
            .Select(compilation.GetTypeByMetadataName)
            .Where(t => t is not null)
            .Select(t => t!)
            .ToImmutableHashSet<INamedTypeSymbol>(SymbolEqualityComparer.Default);
        var walker = new StateWalker(
            forbidden,
            compilation.GetTypeByMetadataName("System.Text.Json.Serialization.JsonIgnoreAttribute"),
            compilation.GetTypeByMetadataName("System.Text.Json.Serialization.JsonIncludeAttribute"));
        start.RegisterOperationAction(c => AnalyzeInvocation(c, flow, walker), OperationKind.Invocation);
    }

    private static void AnalyzeInvocation(OperationAnalysisContext context, INamedTypeSymbol flow, StateWalker walker)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var method = invocation.TargetMethod;
        if (method.Name != "Create" || method.TypeArguments.Length != 1
            || !SymbolEqualityComparer.Default.Equals(method.ContainingType, flow))
        {
            return;
        }

        var state = method.TypeArguments[0];
        if (state is ITypeParameterSymbol)
        {
            return;
        }

        var findings = walker.Find(state);
        if (findings.IsEmpty)
        {
            return;
        }

        var location = TypeArgumentLocation(invocation) ?? invocation.Syntax.GetLocation();
        var stateName = state.ToDisplayString(ShortName);
        foreach (var finding in findings)
        {
            context.ReportDiagnostic(Diagnostic.Create(
                Descriptors.StateNotCheckpointable,
                location,
                stateName,
                finding.Path,
                finding.Type.ToDisplayString(ShortName)));
        }
    }

    private static Location? TypeArgumentLocation(IInvocationOperation invocation)
    {
        if (invocation.Syntax is not InvocationExpressionSyntax syntax)
        {
            return null;
        }

        var name = syntax.Expression switch
        {
            MemberAccessExpressionSyntax access => access.Name,
            SimpleNameSyntax simple => simple,
            _ => null,
        };
        return name is GenericNameSyntax { TypeArgumentList.Arguments.Count: 1 } generic
            ? generic.TypeArgumentList.Arguments[0].GetLocation()
            : null;
    }

    private readonly struct Finding(string path, ITypeSymbol type)
    {
        public string Path { get; } = path;

        public ITypeSymbol Type { get; } = type;
    }

    /// <summary>Walks a state type's serialized members; the result per state type is computed once per compilation.</summary>
    private sealed class StateWalker(
        ImmutableHashSet<INamedTypeSymbol> forbidden,
        INamedTypeSymbol? jsonIgnore,
        INamedTypeSymbol? jsonInclude)
    {
        private readonly ConcurrentDictionary<ITypeSymbol, ImmutableArray<Finding>> _cache = new(SymbolEqualityComparer.Default);

        public ImmutableArray<Finding> Find(ITypeSymbol state) => _cache.GetOrAdd(state, s =>
        {
            var findings = ImmutableArray.CreateBuilder<Finding>();
            var visited = new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default);
            Walk(s, s.ToDisplayString(ShortName), visited, findings);
            return findings.ToImmutable();
        });

        private void Walk(ITypeSymbol type, string path, HashSet<ITypeSymbol> visited, ImmutableArray<Finding>.Builder findings)
        {
            if (type is ITypeParameterSymbol || type.SpecialType != SpecialType.None)
            {
                return;
            }

            if (IsForbidden(type))
            {
                findings.Add(new Finding(path, type));
                return;
            }

            if (type is IArrayTypeSymbol array)
            {
                Walk(array.ElementType, path + "[]", visited, findings);
                return;
            }

            if (type is not INamedTypeSymbol named || !visited.Add(named))
            {
                return;
            }

            if (named.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T)
            {
                Walk(named.TypeArguments[0], path, visited, findings);
                return;
            }

            if (IsFramework(named))
            {
                // A collection, a dictionary, a tuple, Lazy<T>...: what it holds is serialized as its elements.
                foreach (var argument in named.TypeArguments)
                {
                    Walk(argument, path + "[]", visited, findings);
                }

                return;
            }

            if (named.TypeKind is not (TypeKind.Class or TypeKind.Struct))
            {
                return;
            }

            foreach (var member in SerializedMembers(named))
            {
                Walk(member.Type, path + "." + member.Name, visited, findings);
            }
        }

        private bool IsForbidden(ITypeSymbol type)
        {
            if (type.TypeKind == TypeKind.Delegate)
            {
                return true;
            }

            for (var current = type as INamedTypeSymbol; current is not null; current = current.BaseType)
            {
                if (forbidden.Contains(current.OriginalDefinition)
                    || current.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat) == "global::" + HttpContextName)
                {
                    return true;
                }
            }

            return false;
        }

        private static bool IsFramework(INamedTypeSymbol type)
        {
            var root = type.ContainingNamespace;
            while (root is { ContainingNamespace.IsGlobalNamespace: false })
            {
                root = root.ContainingNamespace;
            }

            return root is { Name: "System" or "Microsoft" };
        }

        private IEnumerable<(string Name, ITypeSymbol Type)> SerializedMembers(INamedTypeSymbol type)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var current = type; current is not null && !IsFramework(current); current = current.BaseType)
            {
                foreach (var member in current.GetMembers())
                {
                    if (member.IsStatic || member.IsImplicitlyDeclared || !seen.Add(member.Name) || !IsSerialized(member))
                    {
                        continue;
                    }

                    switch (member)
                    {
                        case IPropertySymbol { IsIndexer: false, GetMethod: not null } property:
                            yield return (property.Name, property.Type);
                            break;
                        case IFieldSymbol field:
                            yield return (field.Name, field.Type);
                            break;
                    }
                }
            }
        }

        private bool IsSerialized(ISymbol member)
        {
            if (member is not (IPropertySymbol or IFieldSymbol))
            {
                return false;
            }

            var included = member.DeclaredAccessibility == Accessibility.Public;
            foreach (var attribute in member.GetAttributes())
            {
                if (jsonIgnore is not null && SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, jsonIgnore))
                {
                    // [JsonIgnore(Condition = JsonIgnoreCondition.Never)] still serializes the member.
                    var never = attribute.NamedArguments.Any(a => a.Key == "Condition" && a.Value.Value is 0);
                    if (!never)
                    {
                        return false;
                    }
                }
                else if (jsonInclude is not null && SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, jsonInclude))
                {
                    included = true;
                }
            }

            return included;
        }
    }
}
