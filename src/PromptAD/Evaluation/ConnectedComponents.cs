using PromptAD.Data;

namespace PromptAD.Evaluation;

/// <summary>
/// Labels connected regions of a binary mask with 8-connectivity (diagonal neighbours join), i.e.
/// <c>scipy.ndimage.label(mask, structure=np.ones((3, 3)))</c>. This is what PromptAD's own
/// <c>cal_pro_metric</c> uses (<c>skimage.measure.label(connectivity=2)</c>) and what anomalib uses
/// (OpenCV connectedComponents, connectivity 8), so a diagonal chain of pixels is one defect, not several.
/// </summary>
public static class ConnectedComponents
{
    /// <summary>Returns per-pixel labels (0 = background, 1..count in raster order of first pixel) and the region count.</summary>
    public static (int[] Labels, int Count) Label(BinaryMask mask)
    {
        ArgumentNullException.ThrowIfNull(mask);
        int w = mask.Width, h = mask.Height;
        byte[] px = mask.Pixels;
        var labels = new int[px.Length];
        var stack = new Stack<int>();
        int count = 0;
        for (int start = 0; start < px.Length; start++)
        {
            if (px[start] == 0 || labels[start] != 0)
            {
                continue;
            }

            count++;
            labels[start] = count;
            stack.Push(start);
            while (stack.Count > 0)
            {
                int p = stack.Pop();
                int py = p / w, pxx = p - py * w;
                for (int dy = -1; dy <= 1; dy++)
                {
                    int y = py + dy;
                    if ((uint)y >= (uint)h)
                    {
                        continue;
                    }

                    for (int dx = -1; dx <= 1; dx++)
                    {
                        int x = pxx + dx;
                        int q = y * w + x;
                        if ((uint)x < (uint)w && px[q] != 0 && labels[q] == 0)
                        {
                            labels[q] = count;
                            stack.Push(q);
                        }
                    }
                }
            }
        }

        return (labels, count);
    }
}
