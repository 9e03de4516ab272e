package sandbox

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strconv"

	"github.com/xinyun-open/ewallet-go/internal/rules"
)

const (
	// minFaceSide is the smallest image the sandbox's face check accepts.
	minFaceSide = 64
	// maxFacePixels bounds decoding: a 1 MiB PNG can declare a gigapixel
	// canvas, and decoding it would take the sandbox down.
	maxFacePixels = 4096 * 4096
	// grayTolerance is how far apart (0-255) a pixel's channels may be and
	// still count as gray: JPEG chroma rounding moves them a step or two.
	grayTolerance = 3
	// graySamples is the grid (per side) of pixels inspected.
	graySamples = 64
)

// faceImage is a face_image that passed the format step.
type faceImage struct {
	data   []byte
	format string // "jpeg" or "png"
}

// decodeFaceImage is the format step of face_image: standard base64 of a
// JPEG or PNG of at most 1 MiB whose header decodes to a sane size.
func decodeFaceImage(field, s string) (faceImage, *apiError) {
	if s == "" {
		return faceImage{}, paramInvalid(field, "is required")
	}
	// Refuse an oversize image before decoding it.
	if base64.StdEncoding.DecodedLen(len(s)) > rules.MaxImageBytes+2 {
		return faceImage{}, paramInvalid(field, "is larger than 1 MiB")
	}
	data, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return faceImage{}, paramInvalid(field, "must be standard base64 with padding")
	}
	format, err := rules.ImageFormat(data)
	if err != nil {
		return faceImage{}, paramInvalid(field, err.Error())
	}
	var cfg image.Config
	if format == "png" {
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
	} else {
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
	}
	if err != nil {
		return faceImage{}, paramInvalid(field, "does not decode as "+format)
	}
	if cfg.Width > maxFacePixels/max(cfg.Height, 1) {
		return faceImage{}, paramInvalid(field, "is larger than "+strconv.Itoa(maxFacePixels)+" pixels")
	}
	return faceImage{data: data, format: format}, nil
}

// checkFace is the sandbox's face check (section 11): the image must decode
// fully, be at least 64×64 px, and not be grayscale. It runs outside the
// store lock; its verdict is answered at the face step.
func checkFace(field string, f faceImage) *apiError {
	var (
		img image.Image
		err error
	)
	if f.format == "png" {
		img, err = png.Decode(bytes.NewReader(f.data))
	} else {
		img, err = jpeg.Decode(bytes.NewReader(f.data))
	}
	if err != nil {
		return paramInvalid(field, "does not decode as "+f.format)
	}
	b := img.Bounds()
	if b.Dx() < minFaceSide || b.Dy() < minFaceSide {
		return fail(codeFaceMismatch, "face check failed: no face found in an image under 64×64 px")
	}
	if grayscale(img) {
		return fail(codeFaceMismatch, "face check failed: the image is grayscale (sandbox test rule)")
	}
	return nil
}

// grayscale reports whether an image holds no colour: a gray colour model,
// or every pixel of a sampling grid with its channels within grayTolerance.
// Sampling, not the colour model alone, because a gray photo saved as RGB
// or YCbCr is still gray.
func grayscale(img image.Image) bool {
	if m := img.ColorModel(); m == color.GrayModel || m == color.Gray16Model {
		return true
	}
	b := img.Bounds()
	stepX := max(1, b.Dx()/graySamples)
	stepY := max(1, b.Dy()/graySamples)
	for y := b.Min.Y; y < b.Max.Y; y += stepY {
		for x := b.Min.X; x < b.Max.X; x += stepX {
			r, g, bl, _ := img.At(x, y).RGBA()
			r, g, bl = r>>8, g>>8, bl>>8
			if max(r, g, bl)-min(r, g, bl) > grayTolerance {
				return false
			}
		}
	}
	return true
}
