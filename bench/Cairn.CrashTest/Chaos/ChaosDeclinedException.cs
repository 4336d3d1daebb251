namespace Cairn.CrashTest.Chaos;

/// <summary>A declined <c>chaos-order</c>: permanent, so the run fails for good and is compensated.</summary>
internal sealed class ChaosDeclinedException(string message) : Exception(message);
