using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace PromptAD.Kernels;

/// <summary>
/// NVTX3's injection protocol, which Nsight uses now that CUDA no longer ships libnvToolsExt: the tool names its
/// library in NVTX_INJECTION64_PATH; we load it and call its <c>InitializeInjectionNvtx2(getExportTable)</c>; the tool
/// asks our export table for the core module's function table and writes its own implementations into the slots.
/// Ranges then call those slots (an empty slot is a no-op). Layouts and ids are those of nvToolsExt.h / nvtxInit.h.
/// </summary>
public static unsafe class NvtxInjection
{
    public const string Variable = "NVTX_INJECTION64_PATH";

    // Export table ids and the core module's callback ids (NVTX_ETID_*, NVTX_CB_MODULE_CORE, NVTX_CBID_CORE_*).
    private const uint CallbacksTable = 1, VersionInfoTable = 3;
    private const int CoreModule = 1, CoreSlots = 16;
    public const int RangePushA = 9, RangePop = 11;
    private const uint NvtxVersion = 3;

    [StructLayout(LayoutKind.Sequential)]
    private struct CallbacksExport
    {
        public nuint StructSize;
        public delegate* unmanaged<int, void****, uint*, int> GetModuleFunctionTable;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct VersionInfoExport
    {
        public nuint StructSize;
        public uint Version;
        public uint Reserved;
        public delegate* unmanaged<uint, void> SetInjectionNvtxVersion;
    }

    private static readonly void** slots = (void**)NativeMemory.AllocZeroed(CoreSlots, (nuint)sizeof(void*));
    private static readonly void*** table = CreateTable();
    private static readonly CallbacksExport* callbacks = CreateCallbacks();
    private static readonly VersionInfoExport* versionInfo = CreateVersionInfo();

    /// <summary>The function the tool wrote into a core slot (null when it left it empty or nothing was injected).</summary>
    public static void* Slot(int id) => slots[id];

    /// <summary>Loads the injection library at <paramref name="path"/> and lets it fill our slots; false with the reason otherwise.</summary>
    public static bool TryLoad(string path, out string reason)
    {
        if (!NativeLibrary.TryLoad(path, out nint library)) { reason = $"{Variable}: cannot load '{path}'"; return false; }
        if (!NativeLibrary.TryGetExport(library, "InitializeInjectionNvtx2", out nint init))
        {
            reason = $"{Variable}: '{path}' does not export InitializeInjectionNvtx2";
            return false;
        }
        int ok = ((delegate* unmanaged<delegate* unmanaged<uint, void*>, int>)init)(&GetExportTable);
        reason = ok != 0 ? "" : $"{Variable}: '{path}' declined to initialize";
        return ok != 0;
    }

    [UnmanagedCallersOnly]
    private static void* GetExportTable(uint id) => id switch
    {
        CallbacksTable => callbacks,
        VersionInfoTable => versionInfo,
        _ => null,
    };

    [UnmanagedCallersOnly]
    private static int GetModuleFunctionTable(int module, void**** outTable, uint* outSize)
    {
        if (module != CoreModule || outTable is null || outSize is null) return 0;
        *outTable = table;
        *outSize = CoreSlots;
        return 1;
    }

    [UnmanagedCallersOnly]
    private static void SetInjectionNvtxVersion(uint version) { }

    private static void*** CreateTable()
    {
        var t = (void***)NativeMemory.AllocZeroed(CoreSlots, (nuint)sizeof(void*));
        for (int i = 0; i < CoreSlots; i++) t[i] = slots + i;
        return t;
    }

    private static CallbacksExport* CreateCallbacks()
    {
        var c = (CallbacksExport*)NativeMemory.AllocZeroed((nuint)sizeof(CallbacksExport));
        c->StructSize = (nuint)sizeof(CallbacksExport);
        c->GetModuleFunctionTable = &GetModuleFunctionTable;
        return c;
    }

    private static VersionInfoExport* CreateVersionInfo()
    {
        var v = (VersionInfoExport*)NativeMemory.AllocZeroed((nuint)sizeof(VersionInfoExport));
        v->StructSize = (nuint)sizeof(VersionInfoExport);
        v->Version = NvtxVersion;
        v->SetInjectionNvtxVersion = &SetInjectionNvtxVersion;
        return v;
    }
}
