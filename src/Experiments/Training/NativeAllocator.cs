using System.Runtime.InteropServices;

namespace Masking.Experiments.Training;

/// <summary>
/// Keeps freed native memory in the process. glibc hands every block above its mmap threshold (32 MiB at most)
/// back to the kernel when it is freed, and trims the heap's top; the next step's tensors of the same size then
/// fault in fresh zeroed pages. Measured on the 2-core machine this project is developed on: allocating and
/// touching a fresh 64 MB tensor takes ~110 ms against ~1 ms for a reused block, and the tiny preset's training
/// step (batch 32 × 64 → 64, vocab 8000) spent three quarters of its time there (1,270 → 263 ms per step).
/// With no mmap for large blocks and no trimming, a step reuses the blocks the previous step freed. The price is
/// that the heap keeps what the largest step needed until the process ends, which a training process wants anyway.
/// <c>MASKING_MALLOC=system</c> keeps glibc's defaults (for side-by-side benchmarks).
/// </summary>
public static class NativeAllocator
{
    private const int TrimThreshold = -1, MmapMax = -4; // glibc's M_TRIM_THRESHOLD and M_MMAP_MAX

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int Mallopt(int parameter, int value);

    /// <summary>True when the settings were applied (glibc on Linux, not turned off).</summary>
    public static bool KeepFreedMemory()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("MASKING_MALLOC") == "system") return false;
        try
        {
            return Mallopt(MmapMax, 0) == 1 && Mallopt(TrimThreshold, int.MaxValue) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false; // not glibc (musl has no mallopt): its defaults stay
        }
    }
}
