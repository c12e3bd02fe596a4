//! The preview image: fetched under the same guard and limits as the page, decoded within pixel
//! and memory limits, scaled down, and encoded again — which leaves every piece of metadata
//! (EXIF with its GPS position, comments, colour profiles) behind.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use url::Url;

use super::fetch::{self, Fetcher, Wanted};
use super::{ImageError, MAX_DECODE_MIB, MAX_DECODE_SIDE, PreviewImage, SnapshotConfig};

/// JPEG quality of preview images.
const JPEG_QUALITY: u8 = 85;

/// Tries the candidates in order and returns the first that gives a preview image; when none
/// does, the first candidate's error.
pub(super) async fn fetch_first(
    fetcher: &Fetcher<'_>,
    candidates: &[Url],
    config: &SnapshotConfig,
) -> Result<PreviewImage, ImageError> {
    let mut first_error = None;
    for url in candidates {
        match fetch_one(fetcher, url.clone(), config).await {
            Ok(image) => return Ok(image),
            Err(error) => {
                tracing::debug!(%url, %error, "preview image candidate failed");
                first_error.get_or_insert(error);
            }
        }
    }
    Err(first_error.unwrap_or(ImageError::UnknownFormat))
}

async fn fetch_one(
    fetcher: &Fetcher<'_>,
    url: Url,
    config: &SnapshotConfig,
) -> Result<PreviewImage, ImageError> {
    let response = fetcher
        .open(url, Wanted::Image)
        .await
        .map_err(|error| ImageError::Fetch(Box::new(error)))?;
    let body = fetch::read_limited(response, config.max_image)
        .await
        .map_err(|error| ImageError::Fetch(Box::new(super::SnapshotError::Fetch(error))))?;
    if body.truncated {
        return Err(ImageError::TooManyBytes {
            max: config.max_image,
        });
    }
    let max_side = config.max_side;
    tokio::task::spawn_blocking(move || reencode(&body.bytes, max_side))
        .await
        .map_err(|error| ImageError::Decode(error.to_string()))?
}

/// Decodes `bytes` (PNG, JPEG, GIF, WebP, ICO or BMP, told by their content), turns the picture
/// upright as its EXIF orientation says, scales it to at most `max_side` pixels a side, and
/// encodes it again: JPEG when it is opaque, PNG when it has transparency.
///
/// Blocking. Pictures over [`MAX_DECODE_SIDE`] pixels a side or [`MAX_DECODE_MIB`] MiB decoded are
/// refused before their pixels are allocated.
pub(crate) fn reencode(bytes: &[u8], max_side: u32) -> Result<PreviewImage, ImageError> {
    let reader = |limits: Limits| -> Result<ImageReader<Cursor<&[u8]>>, ImageError> {
        let mut reader = ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|error| ImageError::Decode(error.to_string()))?;
        match reader.format() {
            Some(
                ImageFormat::Png
                | ImageFormat::Jpeg
                | ImageFormat::Gif
                | ImageFormat::WebP
                | ImageFormat::Ico
                | ImageFormat::Bmp,
            ) => {}
            _ => return Err(ImageError::UnknownFormat),
        }
        reader.limits(limits);
        Ok(reader)
    };

    // The header alone tells the size (read without limits, to report it); the pixels are
    // decoded only when within the limits.
    let (width, height) = reader(Limits::no_limits())?
        .into_dimensions()
        .map_err(|error| decode_error(error, None))?;
    let too_large = ImageError::TooManyPixels { width, height };
    if width > MAX_DECODE_SIDE || height > MAX_DECODE_SIDE {
        return Err(too_large);
    }
    let mut decoder = reader(limits())?
        .into_decoder()
        .map_err(|error| decode_error(error, Some((width, height))))?;
    let orientation = decoder
        .orientation()
        .map_err(|error| decode_error(error, Some((width, height))))?;
    let mut budget = limits();
    budget
        .reserve(decoder.total_bytes())
        .map_err(|_| ImageError::TooManyPixels { width, height })?;
    let mut picture = DynamicImage::from_decoder(decoder)
        .map_err(|error| decode_error(error, Some((width, height))))?;
    picture.apply_orientation(orientation);

    if picture.width().max(picture.height()) > max_side {
        picture = picture.resize(max_side, max_side, FilterType::CatmullRom);
    }
    encode(&picture)
}

fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DECODE_SIDE);
    limits.max_image_height = Some(MAX_DECODE_SIDE);
    limits.max_alloc = Some(MAX_DECODE_MIB * 1024 * 1024);
    limits
}

fn decode_error(error: image::ImageError, size: Option<(u32, u32)>) -> ImageError {
    match (error, size) {
        (image::ImageError::Limits(_), Some((width, height))) => {
            ImageError::TooManyPixels { width, height }
        }
        (image::ImageError::Unsupported(_), _) => ImageError::UnknownFormat,
        (error, _) => ImageError::Decode(error.to_string()),
    }
}

fn encode(picture: &DynamicImage) -> Result<PreviewImage, ImageError> {
    let translucent = picture.color().has_alpha()
        && picture
            .to_rgba8()
            .pixels()
            .any(|pixel| pixel.0[3] < u8::MAX);
    let mut bytes = Vec::new();
    let mime = if translucent {
        picture
            .to_rgba8()
            .write_with_encoder(PngEncoder::new(&mut bytes))
            .map_err(|error| ImageError::Decode(error.to_string()))?;
        "image/png"
    } else {
        picture
            .to_rgb8()
            .write_with_encoder(JpegEncoder::new_with_quality(&mut bytes, JPEG_QUALITY))
            .map_err(|error| ImageError::Decode(error.to_string()))?;
        "image/jpeg"
    };
    Ok(PreviewImage {
        bytes,
        mime: mime.to_owned(),
        width: picture.width(),
        height: picture.height(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use image::{ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};

    use super::*;

    fn jpeg_with_exif(width: u32, height: u32) -> Vec<u8> {
        let picture = RgbImage::from_fn(width, height, |x, y| {
            Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        });
        let mut bytes = Vec::new();
        let mut encoder = JpegEncoder::new_with_quality(&mut bytes, 90);
        // A minimal little-endian TIFF header with no entries, marked so it can be searched for.
        let mut exif = b"II*\0\x08\0\0\0\0\0".to_vec();
        exif.extend_from_slice(b"GPS-SECRET-MARKER");
        encoder.set_exif_metadata(exif).unwrap();
        encoder
            .write_image(
                picture.as_raw(),
                width,
                height,
                image::ExtendedColorType::Rgb8,
            )
            .unwrap();
        bytes
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack
            .windows(needle.len())
            .any(|window| window == needle)
    }

    #[test]
    fn a_large_photo_is_scaled_down_and_loses_its_metadata() {
        let original = jpeg_with_exif(3000, 2000);
        assert!(contains(&original, b"Exif"));
        assert!(contains(&original, b"GPS-SECRET-MARKER"));

        let preview = reencode(&original, 1280).unwrap();
        assert_eq!((preview.width, preview.height), (1280, 853));
        assert_eq!(preview.mime, "image/jpeg");
        assert!(!contains(&preview.bytes, b"Exif"));
        assert!(!contains(&preview.bytes, b"GPS-SECRET-MARKER"));
        let decoded = image::load_from_memory(&preview.bytes).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (1280, 853));
    }

    #[test]
    fn a_small_image_keeps_its_size() {
        let preview = reencode(&jpeg_with_exif(300, 200), 1280).unwrap();
        assert_eq!((preview.width, preview.height), (300, 200));
    }

    #[test]
    fn transparency_stays_png() {
        let picture = RgbaImage::from_fn(64, 64, |x, _| Rgba([200, 10, 10, (x * 4) as u8]));
        let mut bytes = Vec::new();
        picture
            .write_with_encoder(PngEncoder::new(&mut bytes))
            .unwrap();
        let preview = reencode(&bytes, 32).unwrap();
        assert_eq!(preview.mime, "image/png");
        assert_eq!((preview.width, preview.height), (32, 32));
    }

    #[test]
    fn a_huge_image_is_refused_before_decoding() {
        // 20 000 × 20 000 pixels would take 1.2 GB decoded; the PNG itself is small.
        let bytes = huge_png(20_000, 20_000);
        assert!(bytes.len() < 5 * 1024 * 1024, "{}", bytes.len());
        match reencode(&bytes, 1280) {
            Err(ImageError::TooManyPixels { width, height }) => {
                assert_eq!((width, height), (20_000, 20_000));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_wide_image_within_the_memory_budget_is_scaled() {
        let bytes = huge_png(16_000, 40);
        let preview = reencode(&bytes, 1280).unwrap();
        assert_eq!((preview.width, preview.height), (1280, 3));
    }

    #[test]
    fn bytes_that_are_no_image_are_refused() {
        assert!(matches!(
            reencode(b"<html>not an image</html>", 1280),
            Err(ImageError::UnknownFormat)
        ));
        assert!(matches!(
            reencode(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDRtruncated", 1280),
            Err(ImageError::Decode(_))
        ));
    }

    /// A grey PNG of the given size, written row by row so the test never holds its pixels.
    pub(crate) fn huge_png(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = Vec::new();
        let mut encoder = png::Encoder::new(&mut bytes, width, height);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_compression(png::Compression::High);
        let mut writer = encoder.write_header().unwrap();
        let mut stream = writer.stream_writer().unwrap();
        let row = vec![128u8; width as usize];
        for _ in 0..height {
            std::io::Write::write_all(&mut stream, &row).unwrap();
        }
        stream.finish().unwrap();
        drop(writer);
        bytes
    }
}
