using Cairn.Flows;

namespace Cairn.Tests.Flows;

public sealed class FlowPathTests
{
    [Theory]
    [InlineData("")]
    [InlineData("3")]
    [InlineData("2/17/1")]
    [InlineData("1/-1")]
    [InlineData("4/0/2/-2")]
    public void Parse_StoredText_RoundTripsUnchanged(string text)
    {
        var path = FlowPath.Parse(text);

        Assert.Equal(text, path.ToString());
        Assert.Equal(path, FlowPath.Parse(path.ToString()));
    }

    [Fact]
    public void Append_Parent_AndIndexer_WalkThePathWithoutChangingIt()
    {
        var loop = FlowPath.Of(2);

        var inBody = loop.Append(17).Append(1);

        Assert.Equal("2/17/1", inBody.ToString());
        Assert.Equal(3, inBody.Count);
        Assert.Equal((2, 17, 1), (inBody[0], inBody[1], inBody[^1]));
        Assert.Equal(FlowPath.Of(2, 17), inBody.Parent);
        Assert.Equal(FlowPath.Start, FlowPath.Of(2).Parent);
        Assert.Equal(FlowPath.Start, FlowPath.Start.Parent);
        Assert.Equal("2", loop.ToString());
        Assert.True(inBody.Append(-1).HoldsBranchStates);
    }

    [Fact]
    public void Equals_SameSegments_AreEqualWithTheSameHash()
    {
        Assert.Equal(FlowPath.Start, FlowPath.Parse(""));
        Assert.Equal(FlowPath.Of(1, 0, 3), FlowPath.Parse("1/0/3"));
        Assert.Equal(FlowPath.Of(1, 0, 3).GetHashCode(), FlowPath.Parse("1/0/3").GetHashCode());
        Assert.NotEqual(FlowPath.Of(1, 0), FlowPath.Of(1, 0, 3));
    }
}
