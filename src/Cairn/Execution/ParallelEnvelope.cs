using System.Text;

namespace Cairn.Execution;

/// <summary>How far a parallel branch got.</summary>
internal enum BranchStatus : byte
{
    /// <summary>Not started, or started without passing a recovery point: it starts from its beginning.</summary>
    NotStarted = 0,

    /// <summary>Passed a recovery point: it resumes after it.</summary>
    InProgress = 1,

    /// <summary>Finished: it never runs again; its slice waits for the merge.</summary>
    Finished = 2,
}

/// <summary>One branch of a parallel step as a checkpoint saves it.</summary>
internal sealed class BranchFrame
{
    public required string Name { get; init; }

    public BranchStatus Status { get; set; }

    /// <summary>The position in the branch's body of its last recovery point; the start before it passed one.</summary>
    public FlowPath Position { get; set; }

    /// <summary>The branch's slice of the state, serialized: as of its last recovery point, or its start.</summary>
    public required byte[] Slice { get; set; }
}

/// <summary>
/// What a checkpoint inside a parallel step saves instead of the bare state: the flow's state when the branches
/// started, and for each branch its status, its position and its slice. Every branch's recovery point writes the whole
/// envelope, so the newest checkpoint always holds the latest saved progress of every branch. Binary, versioned, with
/// each state kept as the serializer wrote it.
/// </summary>
internal sealed class ParallelEnvelope
{
    private const string Magic = "cairn.parallel.v1";

    public required string Parallel { get; init; }

    public required byte[] State { get; init; }

    public required IReadOnlyList<BranchFrame> Branches { get; init; }

    public byte[] ToBytes()
    {
        using var buffer = new MemoryStream(State.Length + Branches.Sum(b => b.Slice.Length + b.Name.Length + (4 * b.Position.Count) + 16) + 64);
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(Parallel);
            WriteBytes(writer, State);
            writer.Write(Branches.Count);
            foreach (var branch in Branches)
            {
                writer.Write(branch.Name);
                writer.Write((byte)branch.Status);
                writer.Write(branch.Position.ToString());
                WriteBytes(writer, branch.Slice);
            }
        }

        return buffer.ToArray();
    }

    /// <exception cref="FormatException">The bytes are not an envelope.</exception>
    public static ParallelEnvelope Read(ReadOnlyMemory<byte> bytes)
    {
        try
        {
            using var reader = new BinaryReader(new MemoryStream(bytes.ToArray(), writable: false), Encoding.UTF8);
            if (reader.ReadString() != Magic)
            {
                throw new FormatException("it does not start with the parallel envelope's marker");
            }

            var parallel = reader.ReadString();
            var state = ReadBytes(reader);
            var count = reader.ReadInt32();

            // A branch takes at least 7 bytes (empty name, status, empty position, slice length): a damaged count that claims
            // more than the bytes left is refused before anything is allocated for it.
            if (count < 0 || count > Remaining(reader) / 7)
            {
                throw new FormatException($"it claims {count:N0} branches in {Remaining(reader):N0} bytes");
            }

            var branches = new List<BranchFrame>(count);
            for (var i = 0; i < count; i++)
            {
                var name = reader.ReadString();
                var status = (BranchStatus)reader.ReadByte();
                if (!Enum.IsDefined(status))
                {
                    throw new FormatException($"branch '{name}' has the unknown status {(byte)status}");
                }

                var position = FlowPath.Parse(reader.ReadString());
                branches.Add(new BranchFrame { Name = name, Status = status, Position = position, Slice = ReadBytes(reader) });
            }

            return new ParallelEnvelope { Parallel = parallel, State = state, Branches = branches };
        }
        catch (Exception ex) when (ex is EndOfStreamException or IOException or ArgumentOutOfRangeException)
        {
            throw new FormatException($"it is cut short or garbled ({ex.Message})", ex);
        }
    }

    private static void WriteBytes(BinaryWriter writer, byte[] bytes)
    {
        writer.Write(bytes.Length);
        writer.Write(bytes);
    }

    private static byte[] ReadBytes(BinaryReader reader)
    {
        // Checked before reading: BinaryReader.ReadBytes allocates the length it is given, and a damaged one can claim 2 GB.
        var length = reader.ReadInt32();
        var remaining = Remaining(reader);
        return length >= 0 && length <= remaining
            ? reader.ReadBytes(length)
            : throw new EndOfStreamException($"expected {length:N0} bytes, found {remaining:N0}");
    }

    private static long Remaining(BinaryReader reader) => reader.BaseStream.Length - reader.BaseStream.Position;
}
