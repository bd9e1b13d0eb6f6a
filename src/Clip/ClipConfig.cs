namespace PromptAD.Clip;

/// <summary>
/// A CLIP model's architecture, loaded from JSON (Configs/*.json). Property names are the JSON field names
/// (camelCase). Every shape the weights loader checks and every size the encoders use derives from this.
/// </summary>
public sealed record ClipConfig
{
    public required string Name { get; init; }

    /// <summary>Dimension of the joint image–text embedding (output of visual.proj and text_projection).</summary>
    public required int EmbedDim { get; init; }

    /// <summary>"gelu" (exact, erf; OpenCLIP) or "quickgelu" (x·σ(1.702x); OpenAI checkpoints).</summary>
    public required string Activation { get; init; }

    public float LayerNormEps { get; init; } = 1e-5f;

    public required ClipVisionConfig Vision { get; init; }
    public required ClipTextConfig Text { get; init; }

    /// <summary>True for QuickGELU, false for exact GELU; throws on anything else.</summary>
    public bool UsesQuickGelu => Activation switch
    {
        "gelu" => false,
        "quickgelu" => true,
        _ => throw new InvalidOperationException($"CLIP config '{Name}': activation '{Activation}' is neither 'gelu' nor 'quickgelu'"),
    };
}

public sealed record ClipVisionConfig
{
    public required int ImageSize { get; init; }
    public required int PatchSize { get; init; }
    public required int Width { get; init; }
    public required int Layers { get; init; }
    public required int Heads { get; init; }
    public int MlpRatio { get; init; } = 4;

    /// <summary>Zero-based block indices whose original-path patch tokens are the two mid-level features (SPEC §4).</summary>
    public required int[] MidLayers { get; init; }

    public int Grid => ImageSize / PatchSize;
    public int Patches => Grid * Grid;

    /// <summary>Patch tokens plus the class token.</summary>
    public int Tokens => Patches + 1;

    /// <summary>Length of one flattened patch (3·p·p), the conv1 weight viewed as a linear layer's input size.</summary>
    public int PatchDim => 3 * PatchSize * PatchSize;

    public int MlpWidth => MlpRatio * Width;
}

public sealed record ClipTextConfig
{
    public required int ContextLength { get; init; }
    public required int VocabSize { get; init; }
    public required int Width { get; init; }
    public required int Heads { get; init; }
    public required int Layers { get; init; }
    public int MlpRatio { get; init; } = 4;

    /// <summary>Start-of-text id: the second-largest id (49406 for CLIP's vocabulary).</summary>
    public int StartToken => VocabSize - 2;

    /// <summary>End-of-text id: the largest id (49407), so the end position is the argmax of the ids.</summary>
    public int EndToken => VocabSize - 1;

    public int MlpWidth => MlpRatio * Width;
}
