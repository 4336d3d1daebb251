using System.Net;
using Microsoft.AspNetCore.Http;

namespace Cairn.AspNetCore.Security;

/// <summary>Who a request comes from, as run events and logs name them.</summary>
internal static class ConsoleUser
{
    public const string AnonymousLoopback = "anonymous loopback user";

    public static string NameOf(HttpContext context) => context.User.Identity switch
    {
        { IsAuthenticated: true, Name: { Length: > 0 } name } => name,
        { IsAuthenticated: true } => "an authenticated user without a name",
        _ => AnonymousLoopback,
    };

    /// <summary>Whether the request comes from this machine; an IPv4 address mapped into IPv6 (<c>::ffff:127.0.0.1</c>) counts as IPv4.</summary>
    public static bool IsLoopback(IPAddress? address)
    {
        if (address is null)
        {
            return false; // Unknown peer: refused rather than trusted.
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return IPAddress.IsLoopback(address);
    }

    /// <summary>Whether the Host header names this machine: <c>localhost</c> (or a name under it), or a loopback address.</summary>
    public static bool IsLoopbackHost(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
        || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IsLoopback(address));
}
