namespace PromptAD.Data;

/// <summary>
/// k-shot training sets. The authors' shots files (<c>data/fewshot/&lt;dataset&gt;/&lt;category&gt;.txt</c>, lines
/// <c>#k: i j …</c>) hold indices into the NAME-SORTED <c>train/good</c> list; other runs use a seeded random choice.
/// </summary>
public static class FewShot
{
    /// <summary>Parses a shots file into k → indices (in file order).</summary>
    public static IReadOnlyDictionary<int, int[]> Parse(string shotsFile)
    {
        ArgumentException.ThrowIfNullOrEmpty(shotsFile);
        if (!File.Exists(shotsFile))
        {
            throw new DatasetException($"Shots file '{shotsFile}' does not exist.");
        }

        var result = new Dictionary<int, int[]>();
        string[] lines = Clip.IO.InputFile.ReadAllLines(shotsFile, "shots file");
        for (int n = 0; n < lines.Length; n++)
        {
            string line = lines[n].Trim();
            if (line.Length == 0)
            {
                continue;
            }

            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (!line.StartsWith('#') || colon < 0
                || !int.TryParse(line.AsSpan(1, colon - 1).Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int k)
                || k <= 0)
            {
                throw new DatasetException($"Shots file '{shotsFile}' line {n + 1}: expected '#k: i j …', got '{lines[n]}'.");
            }

            var indices = new List<int>();
            foreach (string token in line[(colon + 1)..].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            {
                // Indices are written zero-padded ("048"); parse as decimal, never octal.
                if (!int.TryParse(token, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int index))
                {
                    throw new DatasetException($"Shots file '{shotsFile}' line {n + 1}: '{token}' is not a non-negative integer index.");
                }

                indices.Add(index);
            }

            if (indices.Count != k || !result.TryAdd(k, [.. indices]))
            {
                throw new DatasetException(
                    $"Shots file '{shotsFile}' line {n + 1}: " + (indices.Count != k ? $"#{k} lists {indices.Count} indices." : $"#{k} appears twice."));
            }
        }

        return result;
    }

    /// <summary>The k files the shots file picks from the name-sorted <paramref name="trainFiles"/>.</summary>
    public static IReadOnlyList<string> Select(IReadOnlyList<string> trainFiles, int k, string shotsFile)
    {
        ArgumentNullException.ThrowIfNull(trainFiles);
        IReadOnlyDictionary<int, int[]> shots = Parse(shotsFile);
        if (!shots.TryGetValue(k, out int[]? indices))
        {
            throw new DatasetException(
                $"Shots file '{shotsFile}' has no line for k = {k} (it has k = {string.Join(", ", shots.Keys.Order())}).");
        }

        if (indices.Distinct().Count() != indices.Length)
            throw new DatasetException($"Shots file '{shotsFile}', k = {k}: an index appears twice ({string.Join(" ", indices)}); each shot must be a different image.");

        var chosen = new List<string>(k);
        foreach (int index in indices)
        {
            if (index >= trainFiles.Count)
            {
                // Not guessed or wrapped: a smaller train/good folder than the authors' means the index points elsewhere.
                throw new DatasetException(
                    $"Shots file '{shotsFile}', k = {k}: index {index} is out of range — train/good has {trainFiles.Count} images "
                    + "(indices refer to the name-sorted list of the full category; is this a subset?).");
            }

            chosen.Add(trainFiles[index]);
        }

        return chosen;
    }

    /// <summary>
    /// k distinct files chosen deterministically from <paramref name="seed"/>: a partial Fisher–Yates shuffle of the
    /// indices 0..n−1 driven by SplitMix64 (seeded with the seed as an unsigned 64-bit value), taking
    /// j = i + (next() mod (n − i)) for i = 0..k−1; the result is returned in name order. Stable across platforms
    /// and .NET versions, unlike <see cref="Random"/>; the modulo bias is below 2⁻⁴⁰ for any real folder.
    /// </summary>
    public static IReadOnlyList<string> SelectRandom(IReadOnlyList<string> trainFiles, int k, long seed)
    {
        ArgumentNullException.ThrowIfNull(trainFiles);
        int n = trainFiles.Count;
        if (k <= 0 || k > n)
        {
            throw new DatasetException($"Cannot choose {k} shots from {n} training images.");
        }

        int[] order = [.. Enumerable.Range(0, n)];
        ulong state = unchecked((ulong)seed);
        for (int i = 0; i < k; i++)
        {
            int j = i + (int)(SplitMix64(ref state) % (ulong)(n - i));
            (order[i], order[j]) = (order[j], order[i]);
        }

        int[] picked = order[..k];
        Array.Sort(picked);
        return [.. picked.Select(i => trainFiles[i])];
    }

    private static ulong SplitMix64(ref ulong state)
    {
        state += 0x9E3779B97F4A7C15UL;
        ulong z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
