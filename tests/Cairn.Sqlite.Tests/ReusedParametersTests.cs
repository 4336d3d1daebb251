using Microsoft.Data.Sqlite;

namespace Cairn.Sqlite.Tests;

/// <summary>
/// The writer's cached commands keep their parameter objects and unset each value before the next write binds it again;
/// this pins the Microsoft.Data.Sqlite behaviour that relies on: a parameter left unset fails the command rather than
/// sending its previous value or NULL.
/// </summary>
public sealed class ReusedParametersTests
{
    [Fact]
    public void CachedCommand_ParameterLeftUnset_FailsInsteadOfSendingItsOldValue()
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT $a";
        var parameter = command.Parameters.AddWithValue("$a", 41L);
        Assert.Equal(41L, command.ExecuteScalar());

        parameter.Value = 42L;
        Assert.Equal(42L, command.ExecuteScalar());

        parameter.Value = null;
        var error = Assert.Throws<InvalidOperationException>(() => command.ExecuteScalar());
        Assert.Contains("Value", error.Message, StringComparison.Ordinal);
    }
}
