using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Cairn.AspNetCore.Tests;

internal static class Json
{
    public static async Task<JsonElement> ReadAsync(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Asserts a problem response with the status and a one-line detail, and returns the detail.</summary>
    public static async Task<string> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var problem = await ReadAsync(response, expected);
        Assert.StartsWith("application/problem+json", response.Content.Headers.ContentType?.ToString());
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.DoesNotContain('\n', detail);
        Assert.DoesNotContain("(Parameter", detail);
        return detail;
    }
}
