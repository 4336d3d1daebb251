namespace Cairn;

/// <summary>The base of the errors Cairn raises itself.</summary>
public class CairnException : Exception
{
    /// <summary>Creates the error.</summary>
    public CairnException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the error with the exception that caused it.</summary>
    public CairnException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Whether retrying cannot help: the run fails at once instead of waiting for a retry.</summary>
    public virtual bool IsPermanent => false;
}
