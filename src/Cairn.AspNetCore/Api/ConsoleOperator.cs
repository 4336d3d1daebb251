namespace Cairn.AspNetCore.Api;

/// <summary>The operator API the console works on, resolved once: the hosted engine's, or the host's own.</summary>
internal sealed class ConsoleOperator(RunOperator runOperator)
{
    public RunOperator Operator { get; } = runOperator;
}
