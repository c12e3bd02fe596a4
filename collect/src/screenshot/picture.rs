//! The captured picture: the blank test, the crop and the PNG encoding.

use image::codecs::png::PngEncoder;
use image::{DynamicImage, RgbaImage, imageops};

use super::{Capture, Rect, ScreenshotError};

/// Whether a capture carries nothing: no pixels, every pixel fully transparent, or every pixel
/// the same value. A display that could not really be read gives one of these (a bare X server
/// shows a black root window; a failed compositor read gives transparent or black frames).
/// A real screen with anything on it has at least two different pixels.
pub(super) fn is_blank(picture: &RgbaImage) -> bool {
    let mut pixels = picture.pixels();
    let Some(first) = pixels.next() else {
        return true;
    };
    if picture.pixels().all(|pixel| pixel.0[3] == 0) {
        return true;
    }
    pixels.all(|pixel| pixel == first)
}

/// The part of `picture` inside `rect`, clipped to the picture; an error when nothing is left.
pub(super) fn crop(picture: &RgbaImage, rect: Rect) -> Result<RgbaImage, ScreenshotError> {
    let (width, height) = picture.dimensions();
    let left = rect.x.min(width);
    let top = rect.y.min(height);
    let right = rect.x.saturating_add(rect.width).min(width);
    let bottom = rect.y.saturating_add(rect.height).min(height);
    if right <= left || bottom <= top {
        return Err(ScreenshotError::EmptyCrop { width, height });
    }
    Ok(imageops::crop_imm(picture, left, top, right - left, bottom - top).to_image())
}

/// PNG, without an alpha channel when every pixel is opaque (as screen captures are).
pub(super) fn encode(picture: &RgbaImage) -> Result<Capture, ScreenshotError> {
    let opaque = picture.pixels().all(|pixel| pixel.0[3] == u8::MAX);
    let mut png = Vec::new();
    let written = if opaque {
        DynamicImage::ImageRgba8(picture.clone())
            .to_rgb8()
            .write_with_encoder(PngEncoder::new(&mut png))
    } else {
        picture.write_with_encoder(PngEncoder::new(&mut png))
    };
    written.map_err(|error| ScreenshotError::Failed(format!("PNG encoding: {error}")))?;
    Ok(Capture {
        png,
        width: picture.width(),
        height: picture.height(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use image::Rgba;

    use super::*;

    #[test]
    fn blank_pictures() {
        assert!(is_blank(&RgbaImage::new(0, 0)));
        assert!(is_blank(&RgbaImage::from_pixel(
            64,
            48,
            Rgba([0, 0, 0, 255])
        )));
        assert!(is_blank(&RgbaImage::from_pixel(
            64,
            48,
            Rgba([30, 90, 200, 255])
        )));
        assert!(is_blank(&RgbaImage::from_fn(64, 48, |x, _| Rgba([
            x as u8, 0, 0, 0
        ]))));
    }

    #[test]
    fn one_different_pixel_is_content() {
        let mut picture = RgbaImage::from_pixel(64, 48, Rgba([0, 0, 0, 255]));
        picture.put_pixel(63, 47, Rgba([255, 255, 255, 255]));
        assert!(!is_blank(&picture));
    }

    #[test]
    fn crop_is_clipped_to_the_picture() {
        let picture = RgbaImage::from_fn(100, 50, |x, y| Rgba([x as u8, y as u8, 0, 255]));
        let inside = crop(
            &picture,
            Rect {
                x: 10,
                y: 5,
                width: 20,
                height: 10,
            },
        )
        .unwrap();
        assert_eq!(inside.dimensions(), (20, 10));
        assert_eq!(inside.get_pixel(0, 0), &Rgba([10, 5, 0, 255]));

        let overhanging = crop(
            &picture,
            Rect {
                x: 90,
                y: 40,
                width: 500,
                height: u32::MAX,
            },
        )
        .unwrap();
        assert_eq!(overhanging.dimensions(), (10, 10));
    }

    #[test]
    fn an_empty_crop_is_refused() {
        let picture = RgbaImage::from_pixel(100, 50, Rgba([1, 2, 3, 255]));
        for rect in [
            Rect {
                x: 0,
                y: 0,
                width: 0,
                height: 10,
            },
            Rect {
                x: 100,
                y: 0,
                width: 10,
                height: 10,
            },
            Rect {
                x: 0,
                y: 60,
                width: 10,
                height: 10,
            },
        ] {
            assert_eq!(
                crop(&picture, rect),
                Err(ScreenshotError::EmptyCrop {
                    width: 100,
                    height: 50
                })
            );
        }
    }

    #[test]
    fn an_opaque_capture_is_encoded_without_alpha() {
        let picture = RgbaImage::from_fn(40, 30, |x, y| Rgba([x as u8, y as u8, 7, 255]));
        let capture = encode(&picture).unwrap();
        assert_eq!((capture.width, capture.height), (40, 30));
        let decoded = image::load_from_memory(&capture.png).unwrap();
        assert!(!decoded.color().has_alpha());
        assert_eq!(decoded.to_rgba8(), picture);
    }
}
