//! JPEG decoding as Pillow decodes it: libjpeg-turbo's decoder (the one inside Pillow's wheels; here
//! the copy that `mozjpeg-sys` builds from source with the C compiler alone), with Pillow's settings:
//! the accurate integer IDCT (`JDCT_ISLOW`), fancy upsampling, no block smoothing, and Pillow's colour
//! handling:
//! - greyscale JPEGs decode to one channel, repeated three times (Pillow's `L` → `RGB`);
//! - YCbCr and RGB JPEGs decode to RGB in libjpeg (its fixed-point YCbCr → RGB);
//! - CMYK and YCCK JPEGs decode to CMYK in libjpeg, are read as Adobe-inverted (`CMYK;I`, as Pillow
//!   assumes for every CMYK JPEG) and converted with Pillow's `cmyk2rgb`.
//!
//! [`decode_draft`] decodes at 1/2, 1/4 or 1/8 of the size in libjpeg's IDCT, with the same settings,
//! as Pillow's `Image.draft()` does (the opt-in `--fast-decode`).
//!
//! The decoder's SIMD build (when `nasm` is on PATH at build time) and its C-only build (otherwise)
//! decode the same bytes; `tests/jpeg_fidelity.rs` checks every layout against Pillow.
//!
//! A file whose data ends before the last scanline is refused ([`JpegError::Truncated`]), as
//! Pillow's default loader refuses it ("image file is truncated"), instead of being embedded with
//! libjpeg's grey fill. Other libjpeg warnings (extraneous bytes between markers, say) are ignored,
//! as Pillow ignores them.

use std::ffi::CStr;
use std::os::raw::c_int;
use std::panic::{catch_unwind, AssertUnwindSafe};

use mozjpeg_sys as ffi;

/// Why a JPEG could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JpegError {
    /// The data ends before the last scanline (Pillow: "image file is truncated").
    #[error("the JPEG data ends early (truncated file); Pillow refuses it too")]
    Truncated,
    /// libjpeg refused the data.
    #[error("{0}")]
    Corrupt(String),
    /// A colour space that Pillow does not decode either.
    #[error("unsupported JPEG colour space {0}")]
    ColorSpace(String),
}

/// A decoded JPEG: 8-bit RGB, row-major, `width · height · 3` bytes.
#[derive(Debug, Clone)]
pub struct Rgb8 {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Interleaved RGB bytes.
    pub pixels: Vec<u8>,
}

/// libjpeg's error manager followed by what the callbacks record; libjpeg only sees the first field
/// (`cinfo.err` points at it), the callbacks cast back to the whole struct.
#[repr(C)]
struct ErrorState {
    mgr: ffi::jpeg_error_mgr,
    /// libjpeg warned "Premature end of JPEG file".
    hit_eof: bool,
}

/// The message text of a libjpeg message code, from its own table.
unsafe fn message_text(err: &ffi::jpeg_error_mgr, code: c_int) -> Option<&'static str> {
    if code < 0 || code > err.last_jpeg_message || err.jpeg_message_table.is_null() {
        return None;
    }
    let p = *err.jpeg_message_table.add(code as usize);
    if p.is_null() {
        return None;
    }
    CStr::from_ptr(p).to_str().ok()
}

unsafe extern "C-unwind" fn on_error(cinfo: &mut ffi::jpeg_common_struct) {
    let buf = [0u8; 80];
    if let Some(fmt) = (*cinfo.err).format_message {
        fmt(cinfo, &buf);
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let msg = String::from_utf8_lossy(&buf[..end]).into_owned();
    // Unwinds to the `catch_unwind` in `decode` (mozjpeg-sys is built with unwinding support).
    std::panic::resume_unwind(Box::new(JpegError::Corrupt(msg)));
}

unsafe extern "C-unwind" fn on_message(cinfo: &mut ffi::jpeg_common_struct, level: c_int) {
    if level < 0 {
        let state = &mut *(cinfo.err as *mut ErrorState);
        if message_text(&state.mgr, state.mgr.msg_code) == Some("Premature end of JPEG file") {
            state.hit_eof = true;
        }
        state.mgr.num_warnings += 1;
    }
}

/// Decodes a whole JPEG file (its bytes) to 8-bit RGB as Pillow's `Image.open(f).convert("RGB")`.
pub fn decode(data: &[u8]) -> Result<Rgb8, JpegError> {
    with_decompressor(data, |cinfo| unsafe { run(cinfo, None) })
}

/// Decodes at a reduced DCT scale, as Pillow's `draft()` does: the largest of 1/8, 1/4 and 1/2 that
/// keeps the shorter side (`⌈short / d⌉`) at or above `target_shorter`, else full size. The scale is
/// chosen from the header that the decode reads anyway.
pub fn decode_draft(data: &[u8], target_shorter: u32) -> Result<Rgb8, JpegError> {
    with_decompressor(data, |cinfo| unsafe { run(cinfo, Some(target_shorter)) })
}

/// The DCT scale denominator of a draft decode: the largest of 8, 4 and 2 that keeps the shorter side
/// (`⌈short / d⌉`) at or above `target_shorter`, else 1 (no reduction).
fn draft_denominator(short: u32, target_shorter: u32) -> u32 {
    [8, 4, 2]
        .into_iter()
        .find(|&d| short.div_ceil(d) >= target_shorter)
        .unwrap_or(1)
}

/// Runs `f` on a fresh decompressor reading `data`, with dannscope's error manager; a libjpeg error
/// (which unwinds out of the C code) comes back as [`JpegError::Corrupt`].
fn with_decompressor<T>(
    data: &[u8],
    f: impl FnOnce(&mut ffi::jpeg_decompress_struct) -> Result<T, JpegError>,
) -> Result<T, JpegError> {
    let mut err = Box::new(ErrorState {
        mgr: unsafe { std::mem::zeroed() },
        hit_eof: false,
    });
    let mut cinfo: Box<ffi::jpeg_decompress_struct> = Box::new(unsafe { std::mem::zeroed() });
    unsafe {
        ffi::jpeg_std_error(&mut err.mgr);
        err.mgr.error_exit = Some(on_error);
        err.mgr.emit_message = Some(on_message);
        cinfo.common.err = &mut err.mgr;
    }
    let created = catch_unwind(AssertUnwindSafe(|| unsafe {
        ffi::jpeg_create_decompress(&mut *cinfo)
    }));
    if created.is_err() {
        return Err(JpegError::Corrupt("libjpeg could not start".into()));
    }
    let result = catch_unwind(AssertUnwindSafe(|| {
        unsafe { ffi::jpeg_mem_src(&mut cinfo, data.as_ptr(), data.len() as _) };
        f(&mut cinfo)
    }));
    unsafe { ffi::jpeg_destroy_decompress(&mut cinfo) };
    match result {
        Ok(r) => r,
        Err(payload) => match payload.downcast::<JpegError>() {
            Ok(e) => Err(*e),
            Err(p) => std::panic::resume_unwind(p),
        },
    }
}

/// Pillow's output modes: what libjpeg is asked for and how its samples become RGB.
#[derive(Clone, Copy)]
enum Mode {
    Grey,
    Rgb,
    CmykInverted,
}

/// Whether libjpeg has warned that the data ended early. Read through `cinfo` (which every libjpeg
/// call receives), never through a Rust reference that the optimiser could assume unchanged.
unsafe fn hit_eof(cinfo: &ffi::jpeg_decompress_struct) -> bool {
    (*(cinfo.common.err as *const ErrorState)).hit_eof
}

unsafe fn run(
    cinfo: &mut ffi::jpeg_decompress_struct,
    draft_shorter: Option<u32>,
) -> Result<Rgb8, JpegError> {
    ffi::jpeg_read_header(cinfo, 1);
    if hit_eof(cinfo) {
        return Err(JpegError::Truncated);
    }
    let mode = match cinfo.jpeg_color_space {
        ffi::JCS_GRAYSCALE => Mode::Grey,
        ffi::JCS_YCbCr | ffi::JCS_RGB => Mode::Rgb,
        ffi::JCS_CMYK | ffi::JCS_YCCK => Mode::CmykInverted,
        other => return Err(JpegError::ColorSpace(format!("{other:?}"))),
    };
    cinfo.out_color_space = match mode {
        Mode::Grey => ffi::JCS_GRAYSCALE,
        Mode::Rgb => ffi::JCS_RGB,
        Mode::CmykInverted => ffi::JCS_CMYK,
    };
    cinfo.dct_method = ffi::J_DCT_METHOD::JDCT_ISLOW;
    cinfo.do_fancy_upsampling = 1;
    cinfo.do_block_smoothing = 0;
    cinfo.quantize_colors = 0;
    cinfo.scale_num = 1;
    cinfo.scale_denom = draft_shorter.map_or(1, |t| {
        draft_denominator(cinfo.image_width.min(cinfo.image_height), t)
    });
    ffi::jpeg_start_decompress(cinfo);
    let (w, h) = (cinfo.output_width as usize, cinfo.output_height as usize);
    let comps = cinfo.output_components as usize;
    let mut raw = vec![0u8; w * h * comps];
    while (cinfo.output_scanline as usize) < h {
        let row = cinfo.output_scanline as usize;
        let mut ptr = raw[row * w * comps..].as_mut_ptr();
        ffi::jpeg_read_scanlines(cinfo, &mut ptr, 1);
        if hit_eof(cinfo) {
            return Err(JpegError::Truncated);
        }
    }
    // A progressive file reads all its scans in `jpeg_start_decompress`: a short file shows there.
    if hit_eof(cinfo) {
        return Err(JpegError::Truncated);
    }
    let pixels = match mode {
        Mode::Rgb => raw,
        Mode::Grey => raw.iter().flat_map(|&g| [g, g, g]).collect(),
        Mode::CmykInverted => raw
            .chunks_exact(4)
            .flat_map(|p| cmyk_inverted_to_rgb([p[0], p[1], p[2], p[3]]))
            .collect(),
    };
    Ok(Rgb8 {
        width: w as u32,
        height: h as u32,
        pixels,
    })
}

/// Pillow's `(a · b) / 255` with rounding (`MULDIV255`).
fn muldiv255(a: u32, b: u32) -> u32 {
    let t = a * b + 128;
    ((t >> 8) + t) >> 8
}

/// Pillow's `CMYK;I` unpacking (every byte inverted) followed by its `cmyk2rgb`:
/// `channel = (255 − k) − (c · (255 − k)) / 255`.
fn cmyk_inverted_to_rgb(p: [u8; 4]) -> [u8; 3] {
    let [c, m, y, k] = p.map(|v| 255 - v as u32);
    let nk = 255 - k;
    [c, m, y].map(|v| (nk - muldiv255(v, nk)).min(255) as u8)
}
