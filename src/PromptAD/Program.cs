namespace PromptAD;

public static class Program
{
    public static int Main(string[] args)
    {
        Console.WriteLine("promptad: few-shot anomaly detection (PromptAD on CLIP). Verbs are coming.");
        return 0;
    }
}
