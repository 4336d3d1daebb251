namespace Cairn.Analyzers.Tests;

using Verify = AnalyzerTest<RecoveryPointNameAnalyzer>;

public sealed class RecoveryPointNameAnalyzerTests
{
    private static string Source(string body) => $$"""
        using Cairn.Flows;

        public sealed class Order { public int Id { get; set; } }

        public static class Flows
        {
            private const string Saved = "saved";

            public static Flow<Order> Build(string name, int step)
            {
                return Flow.Create<Order>("order")
                    {{body}}
                    .Build();
            }

            private static string Compute() => "computed";
        }
        """;

    [Theory]
    [InlineData(""".RecoveryPoint("checked")""")]
    [InlineData(""".RecoveryPoint(Saved)""")]
    [InlineData(""".RecoveryPoint(nameof(Order))""")]
    [InlineData(""".RecoveryPoint($"after-{Saved}")""")]
    [InlineData(""".RecoveryPoint("a" + Saved, $"step {step}")""")]
    [InlineData(""".RecoveryPoint(statusMessage: name, name: "named")""")]
    public Task A_constant_name_is_accepted(string call) => Verify.VerifyAsync(Source(call));

    [Theory]
    [InlineData("""name""")]
    [InlineData("""$"after-{step}" """)]
    [InlineData("""Compute()""")]
    [InlineData("""step.ToString(System.Globalization.CultureInfo.InvariantCulture)""")]
    [InlineData("""Saved + step""")]
    public Task A_name_that_is_not_a_constant_is_flagged(string name) =>
        Verify.VerifyAsync(Source($".RecoveryPoint({{|#0:{name.Trim()}|}})"), Verify.Diagnostic("CAIRN002").WithLocation(0));

    [Fact]
    public Task A_named_argument_is_flagged_where_it_stands() =>
        Verify.VerifyAsync(
            Source(""".RecoveryPoint(statusMessage: "saving", name: {|#0:name|})"""),
            Verify.Diagnostic("CAIRN002").WithLocation(0));

    [Fact]
    public Task Recovery_points_inside_a_flow_body_are_checked() =>
        Verify.VerifyAsync(
            Source("""
                .If("positive", o => o.Id > 0, body => body.RecoveryPoint({|#0:name|}), body => body.RecoveryPoint("fixed"))
                """),
            Verify.Diagnostic("CAIRN002").WithLocation(0));

    [Fact]
    public Task A_method_of_the_same_name_elsewhere_is_not_checked() =>
        Verify.VerifyAsync("""
            public sealed class Other
            {
                public void RecoveryPoint(string name) { }

                public void Use(string name) => RecoveryPoint(name);
            }
            """);
}
