using PromptAD.Data;

namespace PromptAD.Evaluation;

/// <summary>
/// Pixel-level segmentation metrics over all pixels of all test images, as fractions (callers report ×100).
/// <c>maps[i]</c> is image i's anomaly map (row-major, the mask's size); <c>masks[i]</c> is its ground truth,
/// or null for an all-normal ('good') image.
/// </summary>
/// <remarks>
/// Both metrics sort the scores once (radix sort, O(n)) and sweep every distinct score as a threshold, so they
/// are exact and cost well under a second for 83 maps of 400×400. Undefined cases throw
/// <see cref="ArgumentException"/>: no anomalous or no normal pixel at all.
/// </remarks>
public static class PixelMetrics
{
    /// <summary>Exact, tie-aware pixel AUROC — sklearn's <c>roc_auc_score(masks.ravel(), maps.ravel())</c>.</summary>
    public static double Auroc(IReadOnlyList<float[]> maps, IReadOnlyList<BinaryMask?> masks)
    {
        (uint[] positives, uint[] negatives) = SplitSorted(maps, masks, regionWeights: null, out _);
        return Auroc(positives, negatives);
    }

    /// <summary>
    /// <see cref="Auroc(IReadOnlyList{float[]}, IReadOnlyList{BinaryMask?})"/> and
    /// <see cref="Aupro(IReadOnlyList{float[]}, IReadOnlyList{BinaryMask?}, double)"/> from one split and sort of the
    /// pixels (the costly part), with the same results as each on its own.
    /// </summary>
    public static (double Auroc, double Aupro) AurocAndAupro(IReadOnlyList<float[]> maps, IReadOnlyList<BinaryMask?> masks, double fprLimit = 0.3)
    {
        CheckLimit(fprLimit);
        var weights = new List<double>();
        (uint[] positives, uint[] negatives) = SplitSorted(maps, masks, weights, out int[] regionOf);
        return (Auroc(positives, negatives), Aupro(positives, negatives, weights, regionOf, fprLimit));
    }

    private static double Auroc(uint[] positives, uint[] negatives)
    {
        ImageMetrics.RequireBothClasses(positives.Length, negatives.Length);

        // Mann–Whitney: for each positive count the negatives below it (×2) and those equal to it (×1).
        long twiceU = 0;
        int below = 0, belowOrEqual = 0;
        foreach (uint p in positives)
        {
            while (below < negatives.Length && negatives[below] < p)
            {
                below++;
            }

            if (belowOrEqual < below)
            {
                belowOrEqual = below;
            }

            while (belowOrEqual < negatives.Length && negatives[belowOrEqual] == p)
            {
                belowOrEqual++;
            }

            twiceU += below + (long)belowOrEqual;
        }

        return twiceU / (2.0 * positives.Length * negatives.Length);
    }

    /// <summary>
    /// Normalized area under the per-region-overlap curve up to <paramref name="fprLimit"/> (default 0.3).
    /// Regions are the 8-connected components of each mask (<see cref="ConnectedComponents"/>). For a threshold t
    /// (anomalous when score ≥ t): PRO(t) = mean over all regions of all images of the fraction of the region's
    /// pixels scoring ≥ t; FPR(t) = fraction of all normal pixels (of every image, 'good' ones included) scoring ≥ t.
    /// The curve runs from (0, 0) through every distinct score; PRO is integrated over FPR ∈ [0, limit] with the
    /// trapezoid rule, the last segment linearly interpolated at exactly the limit, and the area divided by the limit.
    /// </summary>
    public static double Aupro(IReadOnlyList<float[]> maps, IReadOnlyList<BinaryMask?> masks, double fprLimit = 0.3)
    {
        CheckLimit(fprLimit);
        var weights = new List<double>();
        (uint[] positives, uint[] negatives) = SplitSorted(maps, masks, weights, out int[] regionOf);
        return Aupro(positives, negatives, weights, regionOf, fprLimit);
    }

    private static void CheckLimit(double fprLimit)
    {
        if (!(fprLimit > 0 && fprLimit <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(fprLimit), fprLimit, "The FPR limit must be in (0, 1].");
        }
    }

    private static double Aupro(uint[] positives, uint[] negatives, List<double> weights, int[] regionOf, double fprLimit)
    {
        if (weights.Count == 0)
        {
            throw new ArgumentException("AUPRO is undefined: no mask has an anomalous region.");
        }

        if (negatives.Length == 0)
        {
            throw new ArgumentException("AUPRO is undefined: there is no normal pixel to measure the false-positive rate on.");
        }

        double regions = weights.Count;
        double normals = negatives.Length;
        double area = 0, proSum = 0, prevFpr = 0, prevPro = 0;
        int pi = positives.Length - 1, ni = negatives.Length - 1;
        while (pi >= 0 || ni >= 0)
        {
            // Next distinct threshold, descending: take every pixel (normal or anomalous) with that score.
            uint t = pi < 0 ? negatives[ni] : ni < 0 ? positives[pi] : Math.Max(positives[pi], negatives[ni]);
            while (pi >= 0 && positives[pi] == t)
            {
                proSum += weights[regionOf[pi]];
                pi--;
            }

            while (ni >= 0 && negatives[ni] == t)
            {
                ni--;
            }

            double fpr = (negatives.Length - 1 - ni) / normals;
            double pro = proSum / regions;
            if (fpr >= fprLimit)
            {
                double proAtLimit = fpr == prevFpr ? pro : prevPro + (pro - prevPro) * (fprLimit - prevFpr) / (fpr - prevFpr);
                area += (fprLimit - prevFpr) * (prevPro + proAtLimit) / 2;
                return area / fprLimit;
            }

            area += (fpr - prevFpr) * (prevPro + pro) / 2;
            prevFpr = fpr;
            prevPro = pro;
        }

        // Unreachable: the last threshold has FPR = 1 ≥ limit.
        return area / fprLimit;
    }

    /// <summary>
    /// Splits all pixels into sorted anomalous and normal score keys. When <paramref name="regionWeights"/> is given,
    /// it receives 1/area for each connected region and <paramref name="regionOf"/> the region index of each
    /// (sorted) anomalous pixel. Images are labelled and split in parallel, each into its own slice of the arrays
    /// (slices in image order), so the result is the same as one thread's.
    /// </summary>
    private static (uint[] Positives, uint[] Negatives) SplitSorted(
        IReadOnlyList<float[]> maps, IReadOnlyList<BinaryMask?> masks, List<double>? regionWeights, out int[] regionOf)
    {
        ArgumentNullException.ThrowIfNull(maps);
        ArgumentNullException.ThrowIfNull(masks);
        if (maps.Count != masks.Count)
        {
            throw new ArgumentException($"Got {maps.Count} anomaly maps but {masks.Count} masks.");
        }

        int count = maps.Count;
        var positiveStart = new long[count + 1];
        var negativeStart = new long[count + 1];
        for (int i = 0; i < count; i++)
        {
            BinaryMask? mask = masks[i];
            if (mask is not null && maps[i].Length != mask.Pixels.Length)
            {
                throw new ArgumentException(
                    $"Map {i} has {maps[i].Length} values but its mask is {mask.Width}x{mask.Height}; resize the mask to the map first.");
            }

            long positive = mask is null ? 0 : mask.Pixels.AsSpan().Count((byte)1);
            positiveStart[i + 1] = positiveStart[i] + positive;
            negativeStart[i + 1] = negativeStart[i] + maps[i].Length - positive;
        }

        // Regions: labelled per image in parallel, numbered in image order.
        var labelsOf = new int[]?[count];
        var firstRegion = new int[count];
        if (regionWeights is not null)
        {
            var areasOf = new long[]?[count];
            Parallel.For(0, count, i =>
            {
                if (masks[i] is not { } mask)
                {
                    return;
                }

                (int[] labels, int regions) = ConnectedComponents.Label(mask);
                var areas = new long[regions + 1];
                foreach (int l in labels)
                {
                    areas[l]++;
                }

                labelsOf[i] = labels;
                areasOf[i] = areas;
            });
            for (int i = 0; i < count; i++)
            {
                if (areasOf[i] is not { } areas)
                {
                    continue;
                }

                firstRegion[i] = regionWeights.Count - 1; // label l → weight index firstRegion + l
                for (int l = 1; l < areas.Length; l++)
                {
                    regionWeights.Add(1.0 / areas[l]);
                }
            }
        }

        var positives = new uint[checked((int)positiveStart[count])];
        var negatives = new uint[checked((int)negativeStart[count])];
        int[] regions = regionWeights is null ? [] : new int[positives.Length];
        var errors = new Exception?[count];
        Parallel.For(0, count, i =>
        {
            float[] map = maps[i];
            BinaryMask? mask = masks[i];
            int[]? labels = labelsOf[i];
            int pc = (int)positiveStart[i], nc = (int)negativeStart[i];
            string what = $"Anomaly map {i}";
            try
            {
                for (int j = 0; j < map.Length; j++)
                {
                    uint key = FloatKeys.ToKey(map[j], what);
                    if (mask is not null && mask.Pixels[j] != 0)
                    {
                        if (labels is not null)
                        {
                            regions[pc] = firstRegion[i] + labels[j];
                        }

                        positives[pc++] = key;
                    }
                    else
                    {
                        negatives[nc++] = key;
                    }
                }
            }
            catch (ArgumentException e)
            {
                errors[i] = e;
            }
        });
        if (errors.FirstOrDefault(e => e is not null) is { } error)
        {
            throw error; // the first image's, whatever thread found it
        }

        regionOf = regions;
        Parallel.Invoke(
            () => FloatKeys.Sort(positives, regionWeights is null ? null : regions),
            () => FloatKeys.Sort(negatives, null));
        return (positives, negatives);
    }
}
