namespace Cairn.AspNetCore.Api;

/// <summary>A request the API cannot take as it is: answered 400 with the message as the problem's detail.</summary>
internal sealed class ConsoleInputException(string message) : Exception(message)
{
}
