namespace Kefu.Storage.Tests;

/// <summary>Waiting for a condition seen from the test's side, instead of sleeping a fixed time.</summary>
internal static class Wait
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out after {Patience.TotalSeconds:0} s waiting until {what}.");
            await Task.Delay(20);
        }
    }
}
