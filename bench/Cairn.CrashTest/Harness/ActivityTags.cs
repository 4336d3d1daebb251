using System.Diagnostics;
using Cairn.Diagnostics;

namespace Cairn.CrashTest.Harness;

/// <summary>Reads the engine's tags off its stage and checkpoint activities, for the journals.</summary>
internal static class ActivityTags
{
    public static string Run(Activity activity) => Text(activity, Telemetry.RunIdTag);

    public static int Attempt(Activity activity) => Convert.ToInt32(activity.GetTagItem(Telemetry.AttemptTag), CultureInfo.InvariantCulture);

    public static string Text(Activity activity, string name) => activity.GetTagItem(name) as string ?? "?";
}
