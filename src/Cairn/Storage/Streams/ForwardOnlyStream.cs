namespace Cairn.Storage;

/// <summary>
/// What every forward-only stream Cairn hands out shares, for reading (<see cref="ReadOnlyStream"/>) or writing
/// (<see cref="WriteOnlyStream"/>): it never seeks, has no length or position to tell, and has nothing to flush.
/// </summary>
internal abstract class ForwardOnlyStream : Stream
{
    public sealed override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public sealed override void Flush()
    {
    }

    public sealed override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public sealed override void SetLength(long value) => throw new NotSupportedException();
}
