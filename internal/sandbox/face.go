package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"

	"github.com/xinyun-open/ewallet-go/internal/rules"
)

const (
	// minFaceSide is the smallest image the sandbox's face check accepts.
	minFaceSide = 64
	// maxDecodedFaceBytes bounds what decoding one face image may allocate
	// for its pixels (docs/protocol.md, section 11). A 1 MiB file can
	// declare any canvas: a 108 KB PNG of 4096×4096 16-bit RGBA pixels
	// decodes to 128 MiB. The size is judged from the header alone.
	maxDecodedFaceBytes = 32 << 20
	// maxFaceDecodes is how many face images one bank decodes at a time:
	// with maxDecodedFaceBytes, it bounds the memory that face checks can
	// hold however many requests arrive together.
	maxFaceDecodes = 2
	// grayTolerance is how far apart (0-255) a pixel's channels may be and
	// still count as gray: JPEG chroma rounding moves them a step or two.
	grayTolerance = 3
	// graySamples is the grid (per side) of pixels inspected.
	graySamples = 64
)

// faceImage is a face_image that passed the format step: its bytes and
// format, not yet decoded.
type faceImage struct {
	data   []byte
	format string // "jpeg" or "png"
}

// decodeFaceImage is the format step of a base64 face_image field: standard
// base64 of a JPEG or PNG of at most 1 MiB whose header declares pixels
// that fit maxDecodedFaceBytes. It reads headers only: the pixels are
// decoded by checkFace, after every cheaper check of the call has passed.
func decodeFaceImage(field, s string) (faceImage, *apiError) {
	if s == "" {
		return faceImage{}, paramInvalid(field, "is required")
	}
	// Refuse an oversize image before decoding its base64.
	if base64.StdEncoding.DecodedLen(len(s)) > rules.MaxImageBytes+2 {
		return faceImage{}, paramInvalid(field, "is larger than 1 MiB")
	}
	data, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return faceImage{}, paramInvalid(field, "must be standard base64 with padding")
	}
	return faceFormat(field, data)
}

// faceFormat is the format step of face image bytes (the API's decoded
// base64, or an H5 upload).
func faceFormat(field string, data []byte) (faceImage, *apiError) {
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
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return faceImage{}, paramInvalid(field, "does not decode as "+format)
	}
	if decodedBytes(format, data, cfg) > maxDecodedFaceBytes {
		return faceImage{}, paramInvalid(field, "would decode to more than 32 MiB of pixels")
	}
	return faceImage{data: data, format: format}, nil
}

// decodedBytes is what the standard decoders allocate for an image with
// this header: width × height × the bytes per pixel of its colour model,
// plus what the decoder needs beside the image (a progressive JPEG keeps
// 4 bytes of coefficients per pixel and component; an interlaced PNG
// decodes its seven passes into images of their own before merging).
// Computed in uint64: width and height are each below 2^31.
func decodedBytes(format string, data []byte, cfg image.Config) uint64 {
	px := uint64(cfg.Width) * uint64(cfg.Height)
	n := px * bytesPerPixel(cfg.ColorModel)
	switch {
	case format == "jpeg" && jpegProgressive(data):
		components := uint64(3)
		if cfg.ColorModel == color.GrayModel {
			components = 1
		} else if cfg.ColorModel == color.CMYKModel {
			components = 4
		}
		n += px * 4 * components
	case format == "png" && pngInterlaced(data):
		n *= 2
	}
	return n
}

// bytesPerPixel is the size of one pixel of the image type the standard
// decoders return for a colour model. YCbCr counts 3 bytes, its 4:4:4 form
// (subsampled JPEGs take less); an unknown model counts as the largest.
func bytesPerPixel(m color.Model) uint64 {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.YCbCrModel:
		return 3
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel:
		return 4
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 8
}

// pngInterlaced reads the interlace method of the IHDR chunk, which the
// PNG format puts first: signature (8), length (4), "IHDR" (4), then
// width, height, depth, colour type, compression, filter, interlace.
func pngInterlaced(data []byte) bool {
	return len(data) > 28 && string(data[12:16]) == "IHDR" && data[28] != 0
}

// jpegProgressive reports whether a JPEG's frame header is progressive
// (SOF2, SOF6, SOF10, SOF14), walking the marker segments up to the first
// frame or scan header.
func jpegProgressive(data []byte) bool {
	i := 2 // after SOI
	for i+4 <= len(data) {
		if data[i] != 0xFF {
			return false
		}
		marker := data[i+1]
		switch {
		case marker == 0xFF: // fill byte
			i++
			continue
		case marker == 0xC2 || marker == 0xC6 || marker == 0xCA || marker == 0xCE:
			return true
		case marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC:
			return false // another frame type
		case marker == 0xDA: // start of scan before any frame: malformed
			return false
		}
		i += 2 + int(binary.BigEndian.Uint16(data[i+2:]))
	}
	return false
}

// checkFace is the sandbox's face check (section 11): the image must decode
// fully, be at least 64×64 px, and not be grayscale. It decodes, so a call
// runs it only after every cheaper check has passed, outside the store
// lock, and at most maxFaceDecodes at a time per bank.
func (c *core) checkFace(field string, f faceImage) *apiError {
	c.decodes <- struct{}{}
	defer func() { <-c.decodes }()
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
