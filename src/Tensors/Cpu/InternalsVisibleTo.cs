using System.Runtime.CompilerServices;

// The GEMM tests force the AVX2 and scalar kernels on AVX-512 machines through an internal hook.
[assembly: InternalsVisibleTo("PromptAD.Tests")]
