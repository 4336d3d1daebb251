using Cairn.Serialization;
using Microsoft.AspNetCore.Http;

namespace Cairn.AspNetCore.Api;

/// <summary>
/// Turns the operator API's errors into problem details with one line of detail: bad input 400, unknown run 404, a
/// run whose status forbids the action 409.
/// </summary>
internal sealed class ConsoleErrorFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        try
        {
            return await next(invocation).ConfigureAwait(false);
        }
        catch (ConsoleInputException ex)
        {
            return Problem(StatusCodes.Status400BadRequest, "Bad request", ex.Message);
        }
        catch (RunNotFoundException ex)
        {
            return Problem(StatusCodes.Status404NotFound, "Run not found", ex.Message);
        }
        catch (ScheduleNotFoundException ex)
        {
            return Problem(StatusCodes.Status404NotFound, "Schedule not found", ex.Message);
        }
        catch (InvalidRunStateException ex)
        {
            return Problem(StatusCodes.Status409Conflict, "The run's status forbids this", ex.Message);
        }
        catch (CheckpointCorruptedException ex)
        {
            return Problem(StatusCodes.Status409Conflict, "Corrupt checkpoint", ex.Message);
        }
        catch (Exception ex) when (ex is CheckpointNotFoundException or StateSerializationException or ArgumentException)
        {
            return Problem(StatusCodes.Status400BadRequest, "Bad request", ex.Message);
        }
    }

    private static IResult Problem(int status, string title, string message)
    {
        // One line: no parameter suffixes, no "Actual value was" lines.
        var line = ConsoleInput.FirstLine(message);
        var suffix = line.IndexOf(" (Parameter '", StringComparison.Ordinal);
        return Results.Problem(statusCode: status, title: title, detail: suffix < 0 ? line : line[..suffix]);
    }
}
