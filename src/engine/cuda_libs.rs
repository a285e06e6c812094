//! CUDA and cuDNN from pip: load the libraries of the `nvidia-*` wheels before the CUDA execution
//! provider registers, as the onnxruntime Python package's `preload_dlls()` does.
//!
//! `pip install "onnxruntime-gpu[cuda,cudnn]"` installs ONNX Runtime's CUDA provider
//! (`onnxruntime/capi/libonnxruntime_providers_cuda.so`) and, through its extras, the CUDA and cuDNN
//! libraries as `nvidia-*` wheels under the same `site-packages`: `nvidia/<component>/lib` for CUDA 12
//! (`cublas`, `cuda_nvrtc`, `curand`, `cufft`, `cuda_runtime`), one `nvidia/cu<major>/lib` from CUDA 13
//! on, and `nvidia/cudnn/lib`. The dynamic loader does not look there, so the provider would not load.
//! Python's `onnxruntime.preload_dlls()` loads them first by full path; this module does the same, in
//! the same order (cuBLASLt before cuBLAS), with `RTLD_GLOBAL`, for the CUDA major version the package
//! was built with (`cuda_version` in `capi/build_and_package_info.py`). A library that is not in a
//! wheel is loaded by name (system CUDA, `LD_LIBRARY_PATH`). What could not be loaded is named in the
//! error or notice, with the NVIDIA driver (`libcuda.so.1`) checked as well. The handles are kept
//! for the life of the process.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// File name of ONNX Runtime's CUDA execution provider library.
pub(crate) const PROVIDER_LIB: &str = "libonnxruntime_providers_cuda.so";
/// The NVIDIA driver's user-space library.
const DRIVER_LIB: &str = "libcuda.so.1";

/// One library to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CudaLib {
    /// File name (soname), e.g. `libcublasLt.so.13`.
    pub name: String,
    /// Where the `nvidia-*` wheel puts it, when an onnxruntime Python package was found.
    pub wheel_path: Option<PathBuf>,
    /// Whether the CUDA provider can work without it (cuDNN, cuFFT, NVRTC: as in `preload_dlls`).
    pub optional: bool,
}

/// The onnxruntime Python package a library was found in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OrtPackage {
    /// The `site-packages` folder holding `onnxruntime/` (and the `nvidia/` wheels).
    pub site_packages: PathBuf,
    /// `cuda_version` of the package's build info (`None` for the CPU package).
    pub cuda_version: Option<String>,
}

/// The package around `lib` when it is `<site-packages>/onnxruntime/capi/libonnxruntime*`.
pub(crate) fn ort_package(lib: &Path) -> Option<OrtPackage> {
    let capi = lib.parent()?;
    let pkg = capi.parent()?;
    if capi.file_name()? != "capi" || pkg.file_name()? != "onnxruntime" {
        return None;
    }
    let info = std::fs::read_to_string(capi.join("build_and_package_info.py")).unwrap_or_default();
    Some(OrtPackage {
        site_packages: pkg.parent()?.to_path_buf(),
        cuda_version: parse_cuda_version(&info),
    })
}

/// `cuda_version = '13.0'` (or with double quotes) of a `build_and_package_info.py`.
pub(crate) fn parse_cuda_version(build_info: &str) -> Option<String> {
    build_info.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        (k.trim() == "cuda_version")
            .then(|| v.trim().trim_matches(|c| c == '\'' || c == '"').to_string())
            .filter(|v| !v.is_empty())
    })
}

/// The libraries to load for a package built with CUDA `major`, in loading order (Python's
/// `_get_nvidia_dll_paths` on Linux): cuBLASLt, cuBLAS, NVRTC, cuRAND, cuFFT, the CUDA runtime, cuDNN.
pub(crate) fn plan(site_packages: Option<&Path>, major: u32) -> Vec<CudaLib> {
    let cufft = if major >= 13 { 12 } else { 11 };
    let cu = format!("cu{major}");
    // (folder under nvidia/ for CUDA 12, file name, optional)
    let cuda: [(&str, String, bool); 6] = [
        ("cublas", format!("libcublasLt.so.{major}"), false),
        ("cublas", format!("libcublas.so.{major}"), false),
        ("cuda_nvrtc", format!("libnvrtc.so.{major}"), true),
        ("curand", "libcurand.so.10".to_string(), false),
        ("cufft", format!("libcufft.so.{cufft}"), true),
        ("cuda_runtime", format!("libcudart.so.{major}"), false),
    ];
    let mut out: Vec<CudaLib> = cuda
        .into_iter()
        .map(|(component, name, optional)| {
            // From CUDA 13 the toolkit wheels share one folder, nvidia/cu<major>/lib.
            let folder = if major >= 13 { cu.as_str() } else { component };
            CudaLib {
                wheel_path: site_packages
                    .map(|s| s.join("nvidia").join(folder).join("lib").join(&name)),
                name,
                optional,
            }
        })
        .collect();
    // cuDNN keeps its own folder; its sub-libraries are loaded by cuDNN itself when needed.
    out.push(CudaLib {
        name: "libcudnn.so.9".into(),
        wheel_path: site_packages.map(|s| s.join("nvidia/cudnn/lib/libcudnn.so.9")),
        optional: true,
    });
    out
}

/// A library that could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    /// File name (soname).
    pub name: String,
    /// Whether the CUDA provider can work without it.
    pub optional: bool,
    /// Simply absent (not in the wheel folder, not on the loader's path), as opposed to present but
    /// unloadable (wrong architecture, missing symbol, ...).
    pub not_found: bool,
    /// The loader's words.
    pub why: String,
    /// The wheel folder where it was looked for.
    pub dir: Option<PathBuf>,
}

/// What the preload did.
#[derive(Debug, Default)]
pub(crate) struct Preload {
    /// The package's CUDA version, when known.
    pub cuda_version: Option<String>,
    /// Loaded, as `name (from)`.
    pub loaded: Vec<String>,
    /// Could not be loaded.
    pub failed: Vec<Failure>,
    #[cfg(unix)]
    handles: Vec<libloading::os::unix::Library>,
}

impl Preload {
    /// Optional libraries that failed, by name.
    pub fn missing_optional(&self) -> Vec<&str> {
        self.failed
            .iter()
            .filter(|f| f.optional)
            .map(|f| f.name.as_str())
            .collect()
    }
}

const NOT_FOUND: &str = "cannot open shared object file";

/// `dlopen(path, RTLD_NOW | RTLD_GLOBAL)`; the error text is the loader's (it names what is missing).
#[cfg(unix)]
fn dlopen_global(what: &std::ffi::OsStr) -> Result<libloading::os::unix::Library, String> {
    use libloading::os::unix::{Library, RTLD_GLOBAL, RTLD_NOW};
    // SAFETY: loading a CUDA library runs its initialisers, which have no preconditions; this is
    // what the onnxruntime Python package does with ctypes.CDLL.
    unsafe { Library::open(Some(what), RTLD_NOW | RTLD_GLOBAL) }.map_err(|e| loader_error(&e))
}

/// A libloading error with its `dlerror()` text.
#[cfg(unix)]
fn loader_error(e: &libloading::Error) -> String {
    use std::error::Error as _;
    match e.source() {
        Some(s) => s.to_string(),
        None => e.to_string(),
    }
}

/// Load `libs` (wheel path first, then by name) and the NVIDIA driver library.
#[cfg(unix)]
pub(crate) fn load(libs: &[CudaLib], cuda_version: Option<String>) -> Preload {
    let mut p = Preload {
        cuda_version,
        ..Preload::default()
    };
    match dlopen_global(DRIVER_LIB.as_ref()) {
        Ok(h) => {
            p.loaded.push(DRIVER_LIB.to_string());
            p.handles.push(h);
        }
        Err(e) => p.failed.push(Failure {
            name: DRIVER_LIB.to_string(),
            optional: false,
            not_found: e.contains(NOT_FOUND),
            why: e,
            dir: None,
        }),
    }
    for lib in libs {
        let mut why = Vec::new();
        let in_wheel = lib.wheel_path.as_ref().filter(|w| w.is_file());
        if let Some(path) = in_wheel {
            match dlopen_global(path.as_os_str()) {
                Ok(h) => {
                    p.loaded.push(format!("{} ({})", lib.name, path.display()));
                    p.handles.push(h);
                    continue;
                }
                Err(e) => why.push(e),
            }
        }
        match dlopen_global(lib.name.as_ref()) {
            Ok(h) => {
                p.loaded.push(format!("{} (system)", lib.name));
                p.handles.push(h);
            }
            Err(e) => {
                let not_found = in_wheel.is_none() && e.contains(NOT_FOUND);
                why.push(e);
                p.failed.push(Failure {
                    name: lib.name.clone(),
                    optional: lib.optional,
                    not_found,
                    why: why.join("; "),
                    dir: lib
                        .wheel_path
                        .as_ref()
                        .and_then(|w| w.parent())
                        .map(Path::to_path_buf),
                });
            }
        }
    }
    p
}

#[cfg(not(unix))]
pub(crate) fn load(_libs: &[CudaLib], cuda_version: Option<String>) -> Preload {
    Preload {
        cuda_version,
        ..Preload::default()
    }
}

static PRELOAD: OnceLock<Preload> = OnceLock::new();

/// Get ready to register the CUDA provider of the ONNX Runtime library `lib`: check that the
/// provider is there and load its CUDA libraries (once per process). `Err` says why CUDA cannot work.
pub(crate) fn prepare(lib: &Path) -> Result<&'static Preload, String> {
    let dir = lib.parent().unwrap_or(Path::new("."));
    if !dir.join(PROVIDER_LIB).is_file() {
        return Err(format!(
            "this ONNX Runtime build has no CUDA execution provider ({PROVIDER_LIB} is not beside {}); \
             install the GPU package in place of the CPU one: `pip uninstall onnxruntime && \
             pip install \"onnxruntime-gpu[cuda,cudnn]\"`, or set ORT_DYLIB_PATH to a GPU build",
            lib.display()
        ));
    }
    Ok(PRELOAD.get_or_init(|| {
        let pkg = ort_package(lib);
        let version = pkg.as_ref().and_then(|p| p.cuda_version.clone());
        let major = version
            .as_deref()
            .and_then(|v| v.split('.').next())
            .and_then(|m| m.parse::<u32>().ok());
        match major {
            Some(m) => load(
                &plan(pkg.as_ref().map(|p| p.site_packages.as_path()), m),
                version,
            ),
            // A library outside a Python package (or without build info): the system's loader
            // finds CUDA, or the provider's own error says what is missing.
            None => load(&[], version),
        }
    }))
}

/// After a failed registration: what the CUDA provider library itself lacks, in the loader's words
/// (e.g. `libcublasLt.so.12: cannot open shared object file`). ONNX Runtime only logs this.
pub(crate) fn provider_load_error(lib: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};
        let path = lib.parent()?.join(PROVIDER_LIB);
        // SAFETY: as in `dlopen_global`; the handle is dropped (unloaded) at once on success.
        match unsafe { Library::open(Some(&path), RTLD_NOW | RTLD_LOCAL) } {
            Ok(_) => None,
            Err(e) => Some(loader_error(&e)),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = lib;
        None
    }
}

/// Why CUDA did not register, from the preload and the provider library: the missing libraries
/// by name, and how to get them.
pub(crate) fn diagnose(lib: &Path, pre: &Preload) -> String {
    let mut parts = Vec::new();
    let names = |f: &dyn Fn(&Failure) -> bool| {
        pre.failed
            .iter()
            .filter(|x| f(x))
            .map(|x| x.name.as_str())
            .collect::<Vec<_>>()
    };
    if pre.failed.iter().any(|f| f.name == DRIVER_LIB) {
        parts.push(format!(
            "no NVIDIA driver ({DRIVER_LIB} cannot be loaded: is there a GPU and its driver?)"
        ));
    }
    let absent = names(&|f| f.name != DRIVER_LIB && !f.optional && f.not_found);
    if !absent.is_empty() {
        let mut dirs: Vec<&Path> = Vec::new();
        for d in pre
            .failed
            .iter()
            .filter(|f| !f.optional && f.not_found)
            .filter_map(|f| f.dir.as_deref())
        {
            if !dirs.contains(&d) {
                dirs.push(d);
            }
        }
        let place = match dirs.as_slice() {
            [] => "on the library path".to_string(),
            dirs => format!(
                "in {} nor on the library path",
                dirs.iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        parts.push(format!("missing {} (not {place})", absent.join(", ")));
    }
    for f in pre
        .failed
        .iter()
        .filter(|f| f.name != DRIVER_LIB && !f.optional && !f.not_found)
    {
        parts.push(format!("{} does not load: {}", f.name, f.why));
    }
    if parts.is_empty() {
        if let Some(e) = provider_load_error(lib) {
            parts.push(format!("{PROVIDER_LIB} does not load: {e}"));
        }
    }
    let optional = pre.missing_optional();
    if !optional.is_empty() {
        parts.push(format!("also missing (optional): {}", optional.join(", ")));
    }
    if !parts.is_empty() {
        parts.push(match &pre.cuda_version {
            Some(v) => format!(
                "this onnxruntime-gpu is built for CUDA {v}: `pip install \"onnxruntime-gpu[cuda,cudnn]\"` \
                 puts the matching nvidia-* wheels beside it, and the driver must support CUDA {v}"
            ),
            None => "put the CUDA and cuDNN libraries on LD_LIBRARY_PATH, or use the onnxruntime-gpu \
                     Python package with its [cuda,cudnn] extras"
                .to_string(),
        });
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuda_version_from_build_info() {
        let info =
            "package_name = 'onnxruntime-gpu'\n__version__ = '1.31.1'\ncuda_version = '13.0'\n";
        assert_eq!(parse_cuda_version(info).as_deref(), Some("13.0"));
        assert_eq!(
            parse_cuda_version("cuda_version = \"12.8\""),
            Some("12.8".into())
        );
        assert_eq!(
            parse_cuda_version("package_name = 'onnxruntime'\n__version__ = '1.31.1'\n"),
            None
        );
    }

    #[test]
    fn wheel_layouts_and_order() {
        let site = Path::new("/sp");
        let names = |libs: &[CudaLib]| libs.iter().map(|l| l.name.clone()).collect::<Vec<_>>();
        let p13 = plan(Some(site), 13);
        assert_eq!(
            names(&p13),
            [
                "libcublasLt.so.13",
                "libcublas.so.13",
                "libnvrtc.so.13",
                "libcurand.so.10",
                "libcufft.so.12",
                "libcudart.so.13",
                "libcudnn.so.9"
            ]
        );
        assert_eq!(
            p13[0].wheel_path.as_deref(),
            Some(Path::new("/sp/nvidia/cu13/lib/libcublasLt.so.13"))
        );
        assert_eq!(
            p13[6].wheel_path.as_deref(),
            Some(Path::new("/sp/nvidia/cudnn/lib/libcudnn.so.9"))
        );
        let p12 = plan(Some(site), 12);
        let paths: Vec<_> = p12.iter().map(|l| l.wheel_path.clone().unwrap()).collect();
        assert_eq!(
            paths[0],
            Path::new("/sp/nvidia/cublas/lib/libcublasLt.so.12")
        );
        assert_eq!(
            paths[2],
            Path::new("/sp/nvidia/cuda_nvrtc/lib/libnvrtc.so.12")
        );
        assert_eq!(paths[4], Path::new("/sp/nvidia/cufft/lib/libcufft.so.11"));
        assert_eq!(
            paths[5],
            Path::new("/sp/nvidia/cuda_runtime/lib/libcudart.so.12")
        );
        let optional: Vec<_> = p12
            .iter()
            .filter(|l| l.optional)
            .map(|l| &l.name[..])
            .collect();
        assert_eq!(
            optional,
            ["libnvrtc.so.12", "libcufft.so.11", "libcudnn.so.9"]
        );
        assert!(plan(None, 12).iter().all(|l| l.wheel_path.is_none()));
    }

    #[test]
    fn package_found_from_library_path() {
        let tmp = tempfile::tempdir().unwrap();
        let capi = tmp.path().join("site-packages/onnxruntime/capi");
        std::fs::create_dir_all(&capi).unwrap();
        std::fs::write(
            capi.join("build_and_package_info.py"),
            "package_name = 'onnxruntime-gpu'\ncuda_version = '12.8'\n",
        )
        .unwrap();
        let pkg = ort_package(&capi.join("libonnxruntime.so.1.24.4")).unwrap();
        assert_eq!(pkg.site_packages, tmp.path().join("site-packages"));
        assert_eq!(pkg.cuda_version.as_deref(), Some("12.8"));
        assert_eq!(ort_package(Path::new("/usr/lib/libonnxruntime.so")), None);
    }

    #[cfg(unix)]
    #[test]
    fn load_names_what_fails_and_keeps_what_loads() {
        let tmp = tempfile::tempdir().unwrap();
        let lib = tmp.path().join("nvidia/cu13/lib");
        std::fs::create_dir_all(&lib).unwrap();
        // Not a shared library: the loader's own message must come through, with the name.
        std::fs::write(lib.join("libcublasLt.so.13"), b"not an ELF file").unwrap();
        let libs = plan(Some(tmp.path()), 13);
        let pre = load(&libs[..2], Some("13.0".into()));
        let lt = pre
            .failed
            .iter()
            .find(|f| f.name == "libcublasLt.so.13")
            .unwrap();
        assert!(
            !lt.not_found && lt.why.contains("libcublasLt.so.13"),
            "{lt:?}"
        );
        let blas = pre
            .failed
            .iter()
            .find(|f| f.name == "libcublas.so.13")
            .unwrap();
        assert!(blas.not_found && blas.why.contains(NOT_FOUND), "{blas:?}");
        assert_eq!(blas.dir.as_deref(), Some(lib.as_path()));
        let d = diagnose(Path::new("/nonexistent/libonnxruntime.so"), &pre);
        assert!(d.contains("missing libcublas.so.13 (not in"), "{d}");
        assert!(d.contains("cu13/lib nor on the library path"), "{d}");
        assert!(d.contains("libcublasLt.so.13 does not load: "), "{d}");
        assert!(d.contains("CUDA 13.0"), "{d}");
        // A real shared library at a wheel path is loaded from there (zlib standing in for cuRAND).
        let zlib = [
            "/lib/x86_64-linux-gnu/libz.so.1",
            "/usr/lib/x86_64-linux-gnu/libz.so.1",
        ]
        .into_iter()
        .map(Path::new)
        .find(|p| p.is_file());
        if let Some(z) = zlib {
            std::fs::copy(z, lib.join("libcurand.so.10")).unwrap();
            let pre = load(&libs[3..4], Some("13.0".into()));
            assert!(
                pre.loaded
                    .iter()
                    .any(|l| l.starts_with("libcurand.so.10 (/")),
                "{:?} {:?}",
                pre.loaded,
                pre.failed
            );
            assert!(pre.failed.iter().all(|f| f.name != "libcurand.so.10"));
        }
    }

    #[test]
    fn cpu_package_has_no_cuda_provider() {
        let tmp = tempfile::tempdir().unwrap();
        let e = prepare(&tmp.path().join("libonnxruntime.so.1.31.1")).unwrap_err();
        assert!(
            e.contains(PROVIDER_LIB) && e.contains("onnxruntime-gpu"),
            "{e}"
        );
    }
}
