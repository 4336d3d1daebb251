// The console's log messages are declared with all of Cairn's, in Cairn.Diagnostics.Log.Console (their event IDs in
// CairnEventId); under this name the console's code calls them as Log.RunAction(...), Log.Category.
global using Log = Cairn.Diagnostics.Log.Console;
