namespace Cairn.Flows;

/// <summary>The timeout of a <c>WaitFor</c> step without a timeout branch passed before a signal came: the run fails for good.</summary>
public sealed class SignalTimeoutException : CairnException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What timed out, where.</param>
    public SignalTimeoutException(string message)
        : base(message)
    {
    }

    /// <inheritdoc />
    public override bool IsPermanent => true;
}
