using Npgsql;

namespace Cairn.Postgres.Tests;

/// <summary>The one-time rewrite of named parameters to positional ones on the group-commit path.</summary>
public sealed class PositionalSqlTests
{
    [Fact]
    public void Of_NamedParameters_AreNumberedByFirstUse_AndRepeatsShareTheirNumber()
    {
        var sql = PositionalSql.Of("UPDATE t SET a = @a, b = @b WHERE id = @id AND owner = @a::text AND mail = 'x@y' AND c = @b_2");

        Assert.Equal("UPDATE t SET a = $1, b = $2 WHERE id = $3 AND owner = $1::text AND mail = 'x@y' AND c = $4", sql.Sql);
        Assert.Same(sql, PositionalSql.Of("UPDATE t SET a = @a, b = @b WHERE id = @id AND owner = @a::text AND mail = 'x@y' AND c = @b_2"));
    }

    [Fact]
    public void Order_BoundByName_PutsTheStatementsParametersInItsOrder_AndDropsTheUnused()
    {
        var sql = PositionalSql.Of("SELECT @second, @first, @second");
        using var command = new NpgsqlCommand();
        command.Parameters.Add(new NpgsqlParameter<int>("first", 1));
        command.Parameters.Add(new NpgsqlParameter<string>("unused", "x"));
        command.Parameters.Add(new NpgsqlParameter<int>("second", 2));

        sql.Order(command.Parameters);

        Assert.Equal([2, 1], command.Parameters.Select(p => (int)p.Value!));
        Assert.All(command.Parameters, p => Assert.Equal("", p.ParameterName));
    }

    [Fact]
    public void Order_AParameterNotBound_SaysWhichOne()
    {
        var sql = PositionalSql.Of("SELECT @bound, @missing");
        using var command = new NpgsqlCommand();
        command.Parameters.Add(new NpgsqlParameter<int>("bound", 1));

        var error = Assert.Throws<InvalidOperationException>(() => sql.Order(command.Parameters));
        Assert.Equal("The statement's parameter @missing is not bound.", error.Message);
    }
}
