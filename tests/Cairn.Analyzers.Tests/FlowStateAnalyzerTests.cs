namespace Cairn.Analyzers.Tests;

using Verify = AnalyzerTest<FlowStateAnalyzer>;

public sealed class FlowStateAnalyzerTests
{
    private const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Data.Common;
        using System.IO;
        using System.Net.Http;
        using System.Text.Json.Serialization;
        using System.Threading;
        using System.Threading.Tasks;
        using Cairn.Flows;

        namespace Microsoft.AspNetCore.Http { public abstract class HttpContext { } }

        """;

    private static string Source(string state, string stateName = "OrderState") => Usings + state + $$"""

        public static class Flows
        {
            public static Flow<{{stateName}}> Build() => Flow.Create<{|#0:{{stateName}}|}>("order").RecoveryPoint("saved").Build();
        }
        """;

    private static Microsoft.CodeAnalysis.Testing.DiagnosticResult Expected(string path, string type, string state = "OrderState") =>
        Verify.Diagnostic("CAIRN001").WithLocation(0).WithArguments(state, path, type);

    [Theory]
    [InlineData("Stream", "Stream")]
    [InlineData("MemoryStream", "MemoryStream")]
    [InlineData("DbConnection", "DbConnection")]
    [InlineData("DbTransaction", "DbTransaction")]
    [InlineData("DbCommand", "DbCommand")]
    [InlineData("Microsoft.AspNetCore.Http.HttpContext", "HttpContext")]
    [InlineData("Func<int, int>", "Func<int, int>")]
    [InlineData("Action", "Action")]
    [InlineData("EventHandler", "EventHandler")]
    [InlineData("Task", "Task")]
    [InlineData("Task<int>", "Task<int>")]
    [InlineData("ValueTask", "ValueTask")]
    [InlineData("ValueTask<string>", "ValueTask<string>")]
    [InlineData("CancellationToken", "CancellationToken")]
    [InlineData("CancellationTokenSource", "CancellationTokenSource")]
    [InlineData("HttpClient", "HttpClient")]
    [InlineData("Thread", "Thread")]
    public Task A_member_that_cannot_be_saved_is_flagged(string memberType, string shown) =>
        Verify.VerifyAsync(
            Source($$"""public sealed class OrderState { public int Id { get; set; } public {{memberType}} Value { get; set; } = default!; }"""),
            Expected("OrderState.Value", shown));

    [Fact]
    public Task A_nested_member_is_named_by_its_path() =>
        Verify.VerifyAsync(
            Source("""
                public sealed class OrderState { public Upload Upload { get; set; } = new(); }
                public sealed class Upload { public string Name { get; set; } = ""; public Stream? Content { get; set; } }
                """),
            Expected("OrderState.Upload.Content", "Stream"));

    [Fact]
    public Task Collection_array_dictionary_and_nullable_members_are_walked() =>
        Verify.VerifyAsync(
            Source("""
                public sealed class OrderState
                {
                    public List<Line> Lines { get; set; } = [];
                    public Line[] Archived { get; set; } = [];
                    public Dictionary<string, Task> Pending { get; set; } = [];
                    public CancellationToken? Token { get; set; }
                    public Wrapper? Wrapped { get; set; }
                }
                public sealed class Line { public DbConnection? Connection { get; set; } }
                public struct Wrapper { public Action Callback; }
                """),
            Expected("OrderState.Lines[].Connection", "DbConnection"),
            Expected("OrderState.Pending[]", "Task"),
            Expected("OrderState.Token", "CancellationToken"),
            Expected("OrderState.Wrapped.Callback", "Action"));

    [Fact]
    public Task Members_of_a_base_class_are_walked() =>
        Verify.VerifyAsync(
            Source("""
                public abstract class StateBase { public HttpClient? Client { get; set; } }
                public sealed class OrderState : StateBase { public int Id { get; set; } }
                """),
            Expected("OrderState.Client", "HttpClient"));

    [Fact]
    public Task Members_marked_JsonIgnore_are_skipped() =>
        Verify.VerifyAsync(Source("""
            public sealed class OrderState
            {
                public int Id { get; set; }
                [JsonIgnore] public Stream? Content { get; set; }
                [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public Task? Pending { get; set; }
            }
            """));

    [Fact]
    public Task A_member_marked_JsonIgnore_Never_is_still_serialized() =>
        Verify.VerifyAsync(
            Source("""
                public sealed class OrderState { [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public Stream? Content { get; set; } }
                """),
            Expected("OrderState.Content", "Stream"));

    [Fact]
    public Task Private_members_are_skipped_unless_JsonInclude_says_otherwise() =>
        Verify.VerifyAsync(
            Source("""
                public sealed class OrderState
                {
                    private Stream? _cache;
                    public static HttpClient Shared { get; } = new();
                    [JsonInclude] internal Thread? Worker { get; set; }
                    public void Touch() => _cache = null;
                }
                """),
            Expected("OrderState.Worker", "Thread"));

    [Fact]
    public Task A_clean_state_gives_no_diagnostic() =>
        Verify.VerifyAsync(Source("""
            public sealed record OrderState(int Id, string Customer, decimal Total, DateTimeOffset Placed, Guid Key)
            {
                public List<Line> Lines { get; init; } = [];
                public Dictionary<string, int[]> Counts { get; init; } = [];
                public byte[] Payload { get; init; } = [];
                public Status Status { get; init; }
                public TimeSpan? Delay { get; init; }
                public Uri? Callback { get; init; }
            }
            public sealed record Line(string Sku, int Quantity);
            public enum Status { New, Done }
            """));

    [Fact]
    public Task A_cyclic_state_is_walked_once() =>
        Verify.VerifyAsync(
            Source("""
                public sealed class Node { public Node? Parent { get; set; } public List<Node> Children { get; set; } = []; public Action? OnVisit { get; set; } }
                """, "Node"),
            Expected("Node.OnVisit", "Action", "Node"));

    [Fact]
    public Task A_state_that_is_itself_such_a_type_is_flagged() =>
        Verify.VerifyAsync(Source("", "MemoryStream"), Expected("MemoryStream", "MemoryStream", "MemoryStream"));

    [Fact]
    public Task Every_flow_over_the_state_is_flagged() =>
        Verify.VerifyAsync(
            Usings + """
                public sealed class OrderState { public Stream? Content { get; set; } }
                public static class Flows
                {
                    public static Flow<OrderState> First() => Flow.Create<{|#0:OrderState|}>("first").Build();
                    public static Flow<OrderState> Second() => Flow.Create<{|#1:OrderState|}>("second", version: 2).Build();
                }
                """,
            Expected("OrderState.Content", "Stream"),
            Verify.Diagnostic("CAIRN001").WithLocation(1).WithArguments("OrderState", "OrderState.Content", "Stream"));

    [Fact]
    public Task A_generic_helper_over_the_state_type_is_not_flagged() =>
        Verify.VerifyAsync(Usings + """
            public static class Flows
            {
                public static FlowBuilder<T> Start<T>(string name) => Flow.Create<T>(name);
            }
            """);
}
