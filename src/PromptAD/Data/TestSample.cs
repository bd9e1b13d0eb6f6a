namespace PromptAD.Data;

/// <summary>One test image: its defect folder name ('good' = normal) and, for defective images, its mask file.</summary>
/// <param name="MaskPath">Null for 'good' images, and for defective ones without a mask when that was allowed.</param>
public sealed record TestSample(string ImagePath, string DefectType, bool IsAnomalous, string? MaskPath);
