using Cairn.Execution;

namespace Cairn.Tests.Compensation;

/// <summary>The compensation log a checkpoint saves: its text, reading it back, and taking done compensations off it.</summary>
public sealed class CompensationLogTests
{
    [Fact]
    public void ToText_OfALogGoingForwardWithNothingToUndo_IsNull()
    {
        Assert.Null(CompensationLog.Empty().ToText());
        Assert.Null(CompensationLog.Parse(null).ToText());
        Assert.Null(CompensationLog.Parse("").ToText());
    }

    [Fact]
    public void ToText_WithEntries_SavesThemInOrderWithoutAReasonUntilItUndoes()
    {
        var log = CompensationLog.Empty();
        log.Record("reserve", []);
        log.Record("charge", [2, 1]);

        Assert.Equal("""{"done":[{"stage":"reserve","iterations":[]},{"stage":"charge","iterations":[2,1]}],"undoing":false}""", log.ToText());
        Assert.False(log.Undoing);
        Assert.Null(log.Reason);
    }

    [Fact]
    public void ToText_OfALogUndoingWithNothingLeft_KeepsThatItUndoesAndWhy()
    {
        var log = CompensationLog.Empty();
        log.StartUndoing("card declined");

        Assert.Equal("""{"done":[],"undoing":true,"reason":"card declined"}""", log.ToText());
    }

    [Fact]
    public void Parse_WhatToTextSaved_ReadsTheSameLog()
    {
        var log = CompensationLog.Empty();
        log.Record("reserve", []);
        log.Record("charge", [3]);
        log.StartUndoing("cancelled by request");

        var read = CompensationLog.Parse(log.ToText());

        Assert.Equal([new CompensationLog.Entry("reserve", []), new CompensationLog.Entry("charge", [3])], read.Entries);
        Assert.Equal((true, "cancelled by request"), (read.Undoing, read.Reason));
        Assert.Equal(log.ToText(), read.ToText());
    }

    [Fact]
    public void Parse_WithoutDoneEntries_IsALogWithNone()
    {
        var read = CompensationLog.Parse("""{"undoing":true,"reason":"x"}""");

        Assert.Empty(read.Entries);
        Assert.True(read.Undoing);
    }

    [Theory]
    [InlineData("null", "it is JSON null")]
    [InlineData("{\"done\":", "the compensation log '{\"done\":' is not readable: ")]
    [InlineData("[1, 2]", "the compensation log '[1, 2]' is not readable: ")]
    public void Parse_TextThatIsNoLog_IsAFormatException(string text, string expected)
    {
        var error = Assert.Throws<FormatException>(() => CompensationLog.Parse(text));

        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Undone_TakesOffOnlyTheEntryWithTheSameStageAndIterations()
    {
        var log = CompensationLog.Empty();
        log.Record("charge", [1]);
        log.Record("charge", [2]);
        log.Record("refund", [2]);

        log.Undone(new CompensationLog.Entry("charge", [2]));

        Assert.Equal([new CompensationLog.Entry("charge", [1]), new CompensationLog.Entry("refund", [2])], log.Entries);
    }

    [Fact]
    public void Entries_IsACopy_ThatLaterRecordsDoNotChange()
    {
        var log = CompensationLog.Empty();
        log.Record("reserve", []);

        var before = log.Entries;
        log.Record("charge", []);

        Assert.Single(before);
        Assert.Equal(2, log.Entries.Count);
    }

    [Fact]
    public void Entry_EqualsByStageAndIterations_AndNamesItsIterations()
    {
        var entry = new CompensationLog.Entry("charge", [2, 1]);

        Assert.Equal(new CompensationLog.Entry("charge", [2, 1]), entry);
        Assert.Equal(new CompensationLog.Entry("charge", [2, 1]).GetHashCode(), entry.GetHashCode());
        Assert.NotEqual(new CompensationLog.Entry("charge", [2]), entry);
        Assert.NotEqual(new CompensationLog.Entry("refund", [2, 1]), entry);
        Assert.False(entry.Equals(null));
        Assert.Equal("stage 'charge' (iteration 2/1)", entry.ToString());
        Assert.Equal("stage 'reserve'", new CompensationLog.Entry("reserve", []).ToString());
    }
}
