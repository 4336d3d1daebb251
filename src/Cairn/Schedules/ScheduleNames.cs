namespace Cairn.Schedules;

/// <summary>The rule for schedule names, as for flow names.</summary>
internal static class ScheduleNames
{
    public const int MaxLength = 100;

    public static string? FindProblem(string? name) =>
        string.IsNullOrEmpty(name) || name.Length > MaxLength || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
            ? $"the name '{name}' is invalid: use 1 to {MaxLength} letters, digits, '-', '_' or '.'"
            : null;
}
