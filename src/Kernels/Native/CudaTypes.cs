namespace PromptAD.Kernels.Native;

// Plain C enums of the CUDA driver API, restated by value so the bindings stay blittable. Only the values we use or
// report are named; any other code still round-trips through the int and is named by cuGetErrorName.

/// <summary>CUresult: the status every driver call returns.</summary>
public enum CUresult
{
    Success = 0,
    InvalidValue = 1,
    OutOfMemory = 2,
    NotInitialized = 3,
    Deinitialized = 4,
    NoDevice = 100,
    InvalidDevice = 101,
    InvalidImage = 200,
    InvalidContext = 201,
    InvalidPtx = 218,
    UnsupportedPtxVersion = 222,
    NotFound = 500,
    NotReady = 600,
    IllegalAddress = 700,
    LaunchOutOfResources = 701,
    LaunchTimeout = 702,
    LaunchFailed = 719,
    Unknown = 999,
}

/// <summary>CUdevice_attribute values read by <see cref="CudaContext"/> and the doctor report.</summary>
public enum CUdeviceAttribute
{
    MaxThreadsPerBlock = 1,
    MaxSharedMemoryPerBlock = 8,
    WarpSize = 10,
    ClockRate = 13,
    MultiprocessorCount = 16,
    MemoryClockRate = 36,
    GlobalMemoryBusWidth = 37,
    L2CacheSize = 38,
    MaxThreadsPerMultiprocessor = 39,
    ComputeCapabilityMajor = 75,
    ComputeCapabilityMinor = 76,
    MaxSharedMemoryPerBlockOptin = 97,
}

/// <summary>CUjit_option values passed to cuModuleLoadDataEx so a PTX JIT failure comes back with its log.</summary>
public enum CUjitOption
{
    InfoLogBuffer = 3,
    InfoLogBufferSizeBytes = 4,
    ErrorLogBuffer = 5,
    ErrorLogBufferSizeBytes = 6,
}

/// <summary>CUfunction_attribute values settable with cuFuncSetAttribute.</summary>
public enum CUfunctionAttribute
{
    MaxDynamicSharedSizeBytes = 8,
}

/// <summary>
/// CUstreamCaptureMode: which calls during a capture are refused. Relaxed refuses only what cannot be captured on the
/// capturing stream itself, so a cuMemFree of an unrelated buffer on the finalizer thread does not invalidate it.
/// </summary>
public enum CUstreamCaptureMode
{
    Global = 0,
    ThreadLocal = 1,
    Relaxed = 2,
}
