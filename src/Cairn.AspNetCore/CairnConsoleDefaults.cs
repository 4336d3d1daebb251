namespace Cairn.AspNetCore;

/// <summary>The names the console registers and recognizes by default.</summary>
public static class CairnConsoleDefaults
{
    /// <summary>The role that may read: <c>cairn-viewer</c>.</summary>
    public const string ViewerRole = "cairn-viewer";

    /// <summary>The role that may read and act (re-run, cancel, purge, re-drive): <c>cairn-operator</c>.</summary>
    public const string OperatorRole = "cairn-operator";

    /// <summary>
    /// The built-in viewer policy, named after the role <see cref="ViewerRole"/> (<c>cairn-viewer</c>) and registered by
    /// <c>AddCairnConsole</c> unless the host defines one of that name: role <see cref="ViewerRole"/> or <see cref="OperatorRole"/>.
    /// </summary>
    public const string ViewerPolicy = ViewerRole;

    /// <summary>
    /// The built-in operator policy, named after the role <see cref="OperatorRole"/> (<c>cairn-operator</c>) and registered
    /// by <c>AddCairnConsole</c> unless the host defines one of that name: role <see cref="OperatorRole"/>.
    /// </summary>
    public const string OperatorPolicy = OperatorRole;

    /// <summary>The name of the console's OpenAPI document and the group name of its endpoints: <c>cairn</c>.</summary>
    public const string OpenApiDocumentName = "cairn";
}
