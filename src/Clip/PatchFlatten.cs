namespace PromptAD.Clip;

/// <summary>
/// conv1 (kernel = stride = patch, no bias) as a matrix product: each non-overlapping p×p patch of a CHW image
/// becomes one row of 3·p·p values in (channel, y, x) order — the order of the conv weight [width, 3, p, p]
/// flattened, so the patch embedding is Linear(rows, weight viewed as [width, 3·p·p]).
/// </summary>
public static class PatchFlatten
{
    /// <summary>images: [batch, 3, size, size] row-major; returns rows [batch·grid², 3·p·p], patches row-major per image.</summary>
    public static float[] Flatten(ReadOnlySpan<float> images, int batch, int imageSize, int patchSize)
    {
        int grid = imageSize / patchSize, plane = imageSize * imageSize, pd = 3 * patchSize * patchSize;
        if (images.Length != (long)batch * 3 * plane)
            throw new ArgumentException($"{images.Length} values are not {batch} images of 3×{imageSize}×{imageSize}", nameof(images));
        var rows = new float[(long)batch * grid * grid * pd];
        int r = 0;
        for (int b = 0; b < batch; b++)
            for (int gy = 0; gy < grid; gy++)
                for (int gx = 0; gx < grid; gx++, r++)
                {
                    var dst = rows.AsSpan(r * pd, pd);
                    int d = 0;
                    for (int c = 0; c < 3; c++)
                        for (int ky = 0; ky < patchSize; ky++)
                        {
                            int src = b * 3 * plane + c * plane + (gy * patchSize + ky) * imageSize + gx * patchSize;
                            images.Slice(src, patchSize).CopyTo(dst.Slice(d, patchSize));
                            d += patchSize;
                        }
                }
        return rows;
    }
}
