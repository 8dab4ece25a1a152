//! Device selection: `auto` (CUDA when libtorch sees a GPU), `cpu`, `cuda`.

use std::fmt;
use std::str::FromStr;

use tch::{Cuda, Device};

/// What the user asked for with `--device`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    /// CUDA device 0 when available, else CPU.
    #[default]
    Auto,
    /// The CPU.
    Cpu,
    /// CUDA device 0; an error when no GPU is visible.
    Cuda,
}

/// The requested device is not available, or the name is unknown.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// `--device` got something else than auto/cpu/cuda.
    #[error("unknown device '{0}': use auto, cpu or cuda")]
    Unknown(String),
    /// CUDA was requested but libtorch sees no GPU.
    #[error(
        "--device cuda was requested but libtorch sees no CUDA device (use --device auto or cpu)"
    )]
    NoCuda,
}

impl FromStr for DeviceChoice {
    type Err = DeviceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(DeviceChoice::Auto),
            "cpu" => Ok(DeviceChoice::Cpu),
            "cuda" | "gpu" => Ok(DeviceChoice::Cuda),
            _ => Err(DeviceError::Unknown(s.to_string())),
        }
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DeviceChoice::Auto => "auto",
            DeviceChoice::Cpu => "cpu",
            DeviceChoice::Cuda => "cuda",
        })
    }
}

impl DeviceChoice {
    /// Resolves the choice to a libtorch device.
    pub fn resolve(self) -> Result<Device, DeviceError> {
        match self {
            DeviceChoice::Cpu => Ok(Device::Cpu),
            DeviceChoice::Auto => Ok(Device::cuda_if_available()),
            DeviceChoice::Cuda if Cuda::is_available() => Ok(Device::Cuda(0)),
            DeviceChoice::Cuda => Err(DeviceError::NoCuda),
        }
    }
}

/// Intra-op threads libtorch uses for CPU kernels in the threads that run
/// agents (see [`apply_torch_threads`]). 0 means libtorch's own default.
static TORCH_THREADS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);

/// Sets the intra-op thread count that [`apply_torch_threads`] installs.
///
/// The agents' networks are small (a few 256–512-wide layers, batches of
/// 256–512): one thread per run is fastest when runs share the machine, and
/// several runs in parallel (`sweep --jobs`) scale better than threads
/// within one run. 0 keeps libtorch's default (one thread per core).
pub fn set_torch_threads(n: usize) {
    TORCH_THREADS.store(n, std::sync::atomic::Ordering::Relaxed);
}

/// The intra-op thread count set with [`set_torch_threads`] (default 1).
pub fn torch_threads() -> usize {
    TORCH_THREADS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Applies [`torch_threads`] and [`flush_denormals`] to the calling thread.
/// libtorch's OpenMP thread count is a per-thread setting, so each thread
/// that runs an agent calls this before its first tensor operation.
pub fn apply_torch_threads() {
    flush_denormals();
    let n = torch_threads();
    if n > 0 {
        tch::set_num_threads(n as i32);
    }
}

/// Turns on flush-to-zero and denormals-are-zero for the calling thread's
/// float arithmetic (`torch.set_flush_denormal(True)`); threads it starts
/// later, such as libtorch's OpenMP workers, inherit the setting. On x86 an
/// operation on a denormal float (|x| < 1.2e-38) takes a microcode assist,
/// about ten times slower than on a normal one, and training produces them:
/// near-zero softmax probabilities of a confident dynamics model, tiny
/// second moments in Adam. Flushed, they become 0. No-op on other
/// architectures (and on the GPU, which has its own settings).
pub fn flush_denormals() {
    #[cfg(target_arch = "x86_64")]
    #[allow(deprecated)] // `_mm_setcsr` has no replacement in `std::arch`.
    // SAFETY: sets only MXCSR's FTZ (bit 15) and DAZ (bit 6) flags, which
    // every x86-64 CPU supports; no memory is touched.
    unsafe {
        use std::arch::x86_64::{_mm_getcsr, _mm_setcsr};
        _mm_setcsr(_mm_getcsr() | 0x8040);
    }
}

/// How many times slower a bf16 matrix multiply is than an f32 one on this
/// CPU (libtorch, the calling thread's settings), measured once per process on
/// a 256 × 256 × 256 product. About 0.3–0.6 on CPUs with AMX or AVX-512-BF16;
/// on CPUs without them libtorch emulates bf16 and the ratio reaches ~100
/// (an AVX2 AMD EPYC: 1.2 GFLOP/s against 110 for f32).
pub fn cpu_bf16_matmul_slowdown() -> f64 {
    static RATIO: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *RATIO.get_or_init(|| {
        let _no_grad = tch::no_grad_guard();
        let time = |kind: tch::Kind| {
            let a = tch::Tensor::ones([256, 256], (kind, Device::Cpu));
            let _ = a.matmul(&a);
            let start = std::time::Instant::now();
            let mut runs = 0u32;
            while runs < 3 || (start.elapsed().as_millis() < 20 && runs < 1000) {
                let _ = a.matmul(&a);
                runs += 1;
            }
            start.elapsed().as_secs_f64() / f64::from(runs)
        };
        time(tch::Kind::BFloat16) / time(tch::Kind::Float)
    })
}

/// The f32 matrix-multiply rate (GFLOP/s) on `device` with the current
/// thread setting: the median of 20 products of a `[512, 1024]` by a
/// `[1024, 512]` matrix (a planning layer's size: 512 samples, hidden width
/// 512, a 1,024-wide latent), after 3 warm-ups. What an act (or an update)
/// could reach if it were all such products: its FLOP floor.
pub fn matmul_gflops(device: Device) -> f64 {
    let _no_grad = tch::no_grad_guard();
    let opts = (tch::Kind::Float, device);
    let (x, w) = (
        tch::Tensor::randn([512, 1024], opts),
        tch::Tensor::randn([1024, 512], opts),
    );
    let mut ms = Vec::with_capacity(20);
    for i in 0..23 {
        let t0 = std::time::Instant::now();
        // Reading one value waits for the product on a GPU.
        let _ = x.matmul(&w).double_value(&[0, 0]);
        if i >= 3 {
            ms.push(t0.elapsed().as_secs_f64() * 1e3);
        }
    }
    ms.sort_by(f64::total_cmp);
    2.0 * 512.0 * 1024.0 * 512.0 / (ms[ms.len() / 2] * 1e6)
}

/// Version of the libtorch build linked (e.g. `2.11.0+cu130`).
pub fn libtorch_version() -> &'static str {
    env!("CTRLBENCH_LIBTORCH_VERSION")
}

/// What libtorch reports about CUDA.
#[derive(Debug, Clone, Copy)]
pub struct CudaInfo {
    /// `torch.cuda.is_available()`.
    pub available: bool,
    /// Number of visible devices.
    pub device_count: i64,
    /// cuDNN available.
    pub cudnn: bool,
}

/// Queries libtorch for CUDA.
pub fn cuda_info() -> CudaInfo {
    CudaInfo {
        available: Cuda::is_available(),
        device_count: Cuda::device_count(),
        cudnn: Cuda::cudnn_is_available(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_device_names() {
        assert_eq!("auto".parse::<DeviceChoice>().unwrap(), DeviceChoice::Auto);
        assert_eq!("CPU".parse::<DeviceChoice>().unwrap(), DeviceChoice::Cpu);
        assert_eq!("cuda".parse::<DeviceChoice>().unwrap(), DeviceChoice::Cuda);
        assert!("tpu".parse::<DeviceChoice>().is_err());
    }

    #[test]
    fn cpu_tensors_compute() {
        let device = DeviceChoice::Cpu.resolve().unwrap();
        let x = tch::Tensor::from_slice(&[1.0f32, 2.0, 3.0]).to_device(device);
        let y = (&x * &x).sum(tch::Kind::Float);
        assert_eq!(y.double_value(&[]), 14.0);
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn denormals_flush_to_zero_after_flush_denormals() {
        // Each test runs on its own thread, and the setting is per thread.
        let tiny = tch::Tensor::from_slice(&[1e-39f32, 1e-30]);
        let product = |t: &tch::Tensor| Vec::<f32>::try_from(t * 0.5f64).unwrap();
        let before = product(&tiny);
        assert!(before[0] > 0.0 && before[0] < 1e-39, "{before:?}");
        flush_denormals();
        let after = product(&tiny);
        assert_eq!(after[0], 0.0);
        assert_eq!(after[1], 5e-31);
    }

    #[test]
    fn bf16_slowdown_is_a_positive_ratio_measured_once() {
        let r = cpu_bf16_matmul_slowdown();
        assert!(r.is_finite() && r > 0.0, "{r}");
        assert_eq!(cpu_bf16_matmul_slowdown(), r);
    }

    #[test]
    fn auto_resolves_to_cuda_exactly_when_available() {
        let d = DeviceChoice::Auto.resolve().unwrap();
        assert_eq!(d.is_cuda(), cuda_info().available);
    }
}
