using System.Diagnostics;
using System.Runtime.InteropServices;
using PromptAD.Kernels;
using PromptAD.Tensors;

namespace PromptAD.Tests.Kernels;

/// <summary>
/// NVTX3's injection protocol against a fake tool: a small C library, compiled here with cc, that implements
/// InitializeInjectionNvtx2 as Nsight's injection library does (asks for the callbacks export table, fills the core
/// module's push/pop slots) and records the ranges it receives.
/// </summary>
public sealed class NvtxInjectionTests
{
    private const string FakeTool = """
        #include <stddef.h>
        #include <stdint.h>
        #include <string.h>
        typedef void (*Fn)(void);
        typedef const void* (*GetExportTable)(uint32_t id);
        struct Callbacks { size_t size; int (*get_module_function_table)(int module, Fn*** table, unsigned* size); };
        struct VersionInfo { size_t size; uint32_t version; uint32_t reserved; void (*set_version)(uint32_t); };
        static char recorded[4096];
        static int depth;
        static int push(const char* name) { strcat(recorded, "push "); strcat(recorded, name); strcat(recorded, ";"); return depth++; }
        static int pop(void) { strcat(recorded, "pop;"); return --depth; }
        const char* fake_recorded(void) { return recorded; }
        int InitializeInjectionNvtx2(GetExportTable get) {
            const struct VersionInfo* v = get(3);
            if (!v || v->size < sizeof *v || v->version < 2) return 0;
            const struct Callbacks* cb = get(1);
            if (!cb || cb->size < sizeof *cb || get(999) != NULL) return 0;
            Fn** table; unsigned size;
            if (!cb->get_module_function_table(1, &table, &size) || size < 12) return 0;
            if (cb->get_module_function_table(77, &table, &size)) return 0; /* unknown modules are refused */
            cb->get_module_function_table(1, &table, &size);
            *table[9] = (Fn)push;   /* NVTX_CBID_CORE_RangePushA */
            *table[11] = (Fn)pop;   /* NVTX_CBID_CORE_RangePop */
            return 1;
        }
        """;

    [Fact]
    public unsafe void TheInjectedToolReceivesOurRanges()
    {
        string dir = Directory.CreateTempSubdirectory("promptad-nvtx-").FullName;
        try
        {
            string library = Path.Combine(dir, "libfake_nvtx_tool.so");
            string? error = Compile(FakeTool, Path.Combine(dir, "tool.c"), library);
            if (error is not null && error.StartsWith("no C compiler", StringComparison.Ordinal)) Assert.Skip(error);
            Assert.True(error is null, error);

            Assert.True(NvtxInjection.TryLoad(library, out string reason), reason);
            ITraceSink sink = NvtxTraceSink.Injected();
            sink.Push("text_encoder");
            sink.Push("layernorm");
            sink.Pop();
            sink.Pop();

            nint handle = NativeLibrary.Load(library);
            var recorded = (delegate* unmanaged<byte*>)NativeLibrary.GetExport(handle, "fake_recorded");
            Assert.Equal("push text_encoder;push layernorm;pop;pop;", Marshal.PtrToStringUTF8((nint)recorded()));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ALibraryWithoutTheEntryPointIsRefusedWithTheReason()
    {
        Assert.False(NvtxInjection.TryLoad("/nonexistent/libtool.so", out string reason));
        Assert.Contains("NVTX_INJECTION64_PATH", reason);
    }

    /// <summary>Builds a shared library with cc (or gcc); the reason to skip when there is no C compiler.</summary>
    private static string? Compile(string code, string source, string library)
    {
        File.WriteAllText(source, code);
        foreach (string compiler in new[] { "cc", "gcc", "g++" })
        {
            try
            {
                var psi = new ProcessStartInfo(compiler) { RedirectStandardError = true, RedirectStandardOutput = true };
                foreach (string a in compiler == "g++" ? new[] { "-x", "c" } : []) psi.ArgumentList.Add(a);
                foreach (string a in new[] { "-shared", "-fPIC", "-O1", "-o", library, source }) psi.ArgumentList.Add(a);
                using var p = Process.Start(psi)!;
                string err = p.StandardError.ReadToEnd();
                p.WaitForExit();
                if (p.ExitCode == 0) return null;
                return $"{compiler} failed to build the fake NVTX tool: {err}";
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // not installed: try the next one
            }
        }
        return "no C compiler (cc, gcc, g++) to build the fake NVTX injection library";
    }
}
