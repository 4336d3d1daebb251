namespace Cairn.AspNetCore.Security;

/// <summary>Endpoint metadata: whether an endpoint reads or changes runs, which decides its policy and its CSRF check.</summary>
internal sealed class ConsoleAccess
{
    public static readonly ConsoleAccess Read = new(isWrite: false);

    public static readonly ConsoleAccess Write = new(isWrite: true);

    private ConsoleAccess(bool isWrite) => IsWrite = isWrite;

    public bool IsWrite { get; }
}
