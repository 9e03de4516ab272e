package sandbox

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// craftPNG writes a PNG of w×h pixels of the given bit depth and colour
// type (2 RGB, 6 RGBA, 0 gray) without ever holding its pixels: the rows
// are streamed through zlib, so that a test can make the 4096×4096×16-bit
// bomb (128 MiB of pixels in ~140 KB) without allocating it. Each row
// holds one coloured pixel so that the image is not gray. header only
// leaves out the pixel data (enough for DecodeConfig).
func craftPNG(t testing.TB, w, h int, depth, colourType, interlace byte, headerOnly bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	buf.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(data)))
		buf.Write(n[:])
		buf.WriteString(typ)
		buf.Write(data)
		binary.BigEndian.PutUint32(n[:], crc32.ChecksumIEEE(append([]byte(typ), data...)))
		buf.Write(n[:])
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9], ihdr[12] = depth, colourType, interlace
	chunk("IHDR", ihdr)
	if !headerOnly {
		channels := map[byte]int{0: 1, 2: 3, 6: 4}[colourType]
		bpp := channels * int(depth) / 8
		var z bytes.Buffer
		zw, err := zlib.NewWriterLevel(&z, zlib.BestCompression)
		require.NoError(t, err)
		row := make([]byte, 1+w*bpp)
		for y := range h {
			row[1+(y%w)*bpp] = byte(y) | 0x80
			_, err := zw.Write(row)
			require.NoError(t, err)
			row[1+(y%w)*bpp] = 0
		}
		require.NoError(t, zw.Close())
		chunk("IDAT", z.Bytes())
	}
	chunk("IEND", nil)
	return buf.Bytes()
}

// TestFaceDecodedSizeFromHeader: the format step judges the decoded size
// from the header (width × height × bytes per pixel) and refuses over
// 32 MiB, naming face_image; it decodes nothing.
func TestFaceDecodedSizeFromHeader(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                 string
		w, h                 int
		depth, colour, inter byte
		ok                   bool
	}{
		{"RGBA 8-bit, exactly 32 MiB", 4096, 2048, 8, 6, 0, true},
		{"RGBA 8-bit, one row over", 4096, 2049, 8, 6, 0, false},
		{"RGBA 16-bit 4096², the bomb", 4096, 4096, 16, 6, 0, false},
		{"RGBA 16-bit, exactly 32 MiB", 2048, 2048, 16, 6, 0, true},
		{"gray 8-bit, exactly 32 MiB", 8192, 4096, 8, 0, 0, true},
		{"gray 16-bit, over", 4096, 4097, 16, 0, 0, false},
		{"RGB 8-bit (decodes as RGBA), over", 4096, 2049, 8, 2, 0, false},
		{"interlaced RGBA, half the pixels", 4096, 1024, 8, 6, 1, true},
		{"interlaced RGBA, over with its passes", 4096, 1025, 8, 6, 1, false},
		{"a gigapixel", 1 << 16, 1 << 16, 8, 6, 0, false},
	} {
		_, err := faceFormat("face_image", craftPNG(t, tc.w, tc.h, tc.depth, tc.colour, tc.inter, true))
		if tc.ok {
			require.Nil(t, err, tc.name)
			continue
		}
		require.NotNil(t, err, tc.name)
		require.Equal(t, codeParamInvalid, err.code)
		require.Equal(t, "face_image: would decode to more than 32 MiB of pixels", err.msg, tc.name)
	}

	// JPEG: 3 bytes a pixel (YCbCr); progressive adds the coefficients.
	var b bytes.Buffer
	require.NoError(t, jpeg.Encode(&b, colourImage(64, 64), nil))
	img := b.Bytes()
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(img))
	require.NoError(t, err)
	require.False(t, jpegProgressive(img))
	require.Equal(t, uint64(64*64*3), decodedBytes("jpeg", img, cfg))
	prog := bytes.Replace(img, []byte{0xFF, 0xC0}, []byte{0xFF, 0xC2}, 1)
	require.True(t, jpegProgressive(prog))
	require.Equal(t, uint64(64*64*(3+12)), decodedBytes("jpeg", prog, image.Config{ColorModel: color.YCbCrModel, Width: 64, Height: 64}))
}

// heapWatch samples the heap every millisecond until stop: the peak is
// what the decoders would have shown.
type heapWatch struct {
	before, after runtime.MemStats
	peak          uint64
	stop          chan struct{}
	done          sync.WaitGroup
}

func watchHeap() *heapWatch {
	runtime.GC()
	w := &heapWatch{stop: make(chan struct{})}
	runtime.ReadMemStats(&w.before)
	w.peak = w.before.HeapAlloc
	w.done.Add(1)
	go func() {
		defer w.done.Done()
		var m runtime.MemStats
		for {
			select {
			case <-w.stop:
				return
			case <-time.After(time.Millisecond):
			}
			runtime.ReadMemStats(&m)
			w.peak = max(w.peak, m.HeapAlloc)
		}
	}()
	return w
}

func (w *heapWatch) end() {
	close(w.stop)
	w.done.Wait()
	runtime.ReadMemStats(&w.after)
}

func (w *heapWatch) allocated() uint64 { return w.after.TotalAlloc - w.before.TotalAlloc }
func (w *heapWatch) grew() uint64      { return w.peak - w.before.HeapAlloc }

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// TestFaceBombRefusedUndecoded: 8 concurrent account/open calls carrying
// the 4096×4096×16-bit PNG bomb, each with a valid token and SMS code, are
// refused with PARAM_INVALID naming face_image, and the heap barely moves
// (a decode would allocate 128 MiB each: 1 GiB for eight). Not parallel:
// the heap is measured.
func TestFaceBombRefusedUndecoded(t *testing.T) {
	f := newFixture(t)
	bomb := craftPNG(t, 4096, 4096, 16, 6, 0, false)
	b64 := base64.StdEncoding.EncodeToString(bomb)
	var args []map[string]any
	for range 8 {
		a := f.openArgs(f.c, f.person())
		a["face_image"] = b64
		args = append(args, a)
	}
	acct, p := f.newAccount()
	reset := map[string]any{"account_no": acct, "id_number": p.id, "sms_serial": f.sms(f.c, p.mobile, "RESET_PASSWORD"),
		"sms_code": sandboxCode, "face_image": b64, "new_password": f.c.pin("246813")}

	// The requests are built first: the heap is the bank's.
	reqs := prebuilt(f.c, openPath, args)
	w := watchHeap()
	var wg sync.WaitGroup
	answers := make([]*tresp, len(reqs))
	for i, req := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = f.c.send(req)
		}()
	}
	wg.Wait()
	w.end()
	for _, r := range answers {
		require.NoError(t, r.verifyErr)
		require.Equal(t, codeParamInvalid, r.code)
		require.Equal(t, "face_image: would decode to more than 32 MiB of pixels", r.msg)
	}
	r := f.c.fails(codeParamInvalid, resetPath, reset)
	require.Equal(t, "face_image: would decode to more than 32 MiB of pixels", r.msg)

	t.Logf("bomb: %d-byte PNG of 4096×4096×16-bit RGBA (128 MiB decoded); 8 concurrent account/open: "+
		"heap %.1f MiB before, peak %.1f MiB (+%.1f MiB), %.1f MiB allocated in all",
		len(bomb), mib(w.before.HeapAlloc), mib(w.peak), mib(w.grew()), mib(w.allocated()))
	// Eight requests of ~250 KB each, verified, decrypted, parsed: a few
	// MiB in all; one decode alone would allocate 128 MiB.
	require.Less(t, w.allocated(), uint64(32<<20), "nothing was decoded")
	require.Less(t, w.grew(), uint64(16<<20))

	// The same account still opens with a real face: the token and SMS
	// code were not used up.
	args[0]["face_image"] = f.face()
	f.c.ok(openPath, args[0])
}

// prebuilt signs and encrypts one request per args ahead of sending.
func prebuilt(c *tclient, path string, args []map[string]any) []*treq {
	out := make([]*treq, len(args))
	for i, a := range args {
		r := &treq{path: path, biz: bizJSON(c.t, a)}
		r.rawBody = c.body(r)
		out[i] = r
	}
	return out
}

// TestFaceDecodedOnlyAfterCheapChecks: an image the format step allows
// (32 MiB of pixels) is not decoded while the token, the SMS code or the
// account is wrong: the call ends at that step, and the heap shows no
// decode.
func TestFaceDecodedOnlyAfterCheapChecks(t *testing.T) {
	f := newFixture(t)
	big := base64.StdEncoding.EncodeToString(craftPNG(t, 4096, 2048, 8, 6, 0, false))
	type call struct {
		path string
		args map[string]any
		code string
	}
	var calls []call
	for i := range 8 {
		a := f.openArgs(f.c, f.person())
		a["face_image"] = big
		switch i % 2 {
		case 0:
			a["verify_token"] = "VT" + newMsgID()
			calls = append(calls, call{openPath, a, codeVerifyTokenInvalid})
		case 1:
			a["sms_code"] = "000000"
			calls = append(calls, call{openPath, a, codeSMSCodeInvalid})
		}
	}
	acct, p := f.newAccount()
	calls = append(calls,
		call{resetPath, map[string]any{"account_no": acct, "id_number": idNumber("19800101", 9), "sms_serial": f.sms(f.c, p.mobile, "RESET_PASSWORD"),
			"sms_code": sandboxCode, "face_image": big, "new_password": f.c.pin("246813")}, codeParamInvalid},
		call{resetPath, map[string]any{"account_no": "6236880000009999", "id_number": p.id, "sms_serial": "S1",
			"sms_code": sandboxCode, "face_image": big, "new_password": f.c.pin("246813")}, codeAccountNotFound})

	reqs := make([]*treq, len(calls))
	for i, c := range calls {
		reqs[i] = prebuilt(f.c, c.path, []map[string]any{c.args})[0]
	}
	w := watchHeap()
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := f.c.send(reqs[i])
			require.NoError(t, r.verifyErr)
			require.Equal(t, c.code, r.code, r.msg)
		}()
	}
	wg.Wait()
	w.end()
	t.Logf("10 calls with a 32 MiB image and a wrong token, SMS code, id_number or account: peak +%.1f MiB, %.1f MiB allocated",
		mib(w.grew()), mib(w.allocated()))
	require.Less(t, w.allocated(), uint64(32<<20), "no image was decoded")
}

// TestFaceDecodesAreBounded: with every decode slot taken, a call that
// reaches the face step waits, and goes on when a slot frees.
func TestFaceDecodesAreBounded(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.bank.core
	require.Equal(t, maxFaceDecodes, cap(c.decodes))
	for range maxFaceDecodes {
		c.decodes <- struct{}{}
	}
	args := f.openArgs(f.c, f.person())
	done := make(chan *tresp, 1)
	go func() { done <- f.c.send(&treq{path: openPath, biz: bizJSON(t, args)}) }()
	select {
	case r := <-done:
		t.Fatalf("answered %s while every decode slot was taken", r.code)
	case <-time.After(100 * time.Millisecond):
	}
	<-c.decodes
	select {
	case r := <-done:
		require.Equal(t, codeSuccess, r.code, r.msg)
	case <-time.After(5 * time.Second):
		t.Fatal("no answer after a slot freed")
	}
	<-c.decodes
}

// TestFaceDecodesBoundTheHeap: eight concurrent calls that reach the face
// step with the largest image the format step allows (32 MiB of pixels)
// decode two at a time: the heap holds about two images, not eight. Not
// parallel: the heap is measured.
func TestFaceDecodesBoundTheHeap(t *testing.T) {
	f := newFixture(t)
	big := base64.StdEncoding.EncodeToString(craftPNG(t, 4096, 2048, 8, 6, 0, false))
	var args []map[string]any
	for range 8 {
		a := f.openArgs(f.c, f.person())
		a["face_image"] = big
		args = append(args, a)
	}
	reqs := prebuilt(f.c, openPath, args)
	w := watchHeap()
	var wg sync.WaitGroup
	for _, req := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := f.c.send(req)
			require.NoError(t, r.verifyErr)
			// Decoded, then judged: this image is nearly all black.
			require.Equal(t, codeFaceMismatch, r.code, r.msg)
		}()
	}
	wg.Wait()
	w.end()
	t.Logf("8 concurrent account/open with a 4096×2048 RGBA image (32 MiB decoded) each: heap peak +%.1f MiB, %.1f MiB allocated",
		mib(w.grew()), mib(w.allocated()))
	require.GreaterOrEqual(t, w.allocated(), uint64(8*32<<20), "every image was decoded")
	// Live: at most two images of 32 MiB. The collector lets the heap grow
	// to twice what was live when it last marked (GOGC=100), and a mark
	// may catch a third image on its way in, so the peak stays under
	// 2 × 3 × 32 MiB whatever the number of calls (measured: +130 MiB, or
	// +161 MiB when the collector marks at that moment; with eight decode
	// slots instead, +260 MiB).
	require.Equal(t, 2, maxFaceDecodes)
	require.Less(t, w.grew(), uint64(6*(32<<20)), "at most two decodes at a time")
}
