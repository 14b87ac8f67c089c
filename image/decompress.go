package image

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Magic numbers at the start of compressed streams: RFC 1952 (gzip, with
// the deflate method byte), RFC 8878 (zstd) and the xz file format 1.0.4.
var (
	gzipMagic = []byte{0x1f, 0x8b, 0x08}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
	xzMagic   = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
)

// A bzip2 stream starts with "BZh" and the block size digit 1 to 9. Then
// comes the magic of the first block (the BCD digits of pi), or the
// end-of-stream magic (the digits of the square root of pi) in an empty
// stream. Checking all 10 bytes keeps a plain tar whose first entry is
// named "BZh..." from being taken for bzip2.
var (
	bzip2BlockMagic = []byte{0x31, 0x41, 0x59, 0x26, 0x53, 0x59}
	bzip2EndMagic   = []byte{0x17, 0x72, 0x45, 0x38, 0x50, 0x90}
)

// sniffLen is the number of bytes Decompress reads to detect the format.
const sniffLen = 10

func isBzip2(head []byte) bool {
	if len(head) < sniffLen || string(head[:3]) != "BZh" || head[3] < '1' || head[3] > '9' {
		return false
	}
	return bytes.Equal(head[4:10], bzip2BlockMagic) || bytes.Equal(head[4:10], bzip2EndMagic)
}

// Decompress returns the uncompressed stream of r, detecting gzip, zstd,
// xz and bzip2 by their magic numbers. Any other stream, such as a plain
// tar, is returned as it is. Closing the result releases the
// decompressor (zstd runs goroutines) but does not close r.
func Decompress(r io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(r, readBufferSize)
	head, err := br.Peek(sniffLen)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read layer stream: %w", err)
	}
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("open gzip stream: %w", err)
		}
		return zr, nil
	case bytes.HasPrefix(head, zstdMagic):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("open zstd stream: %w", err)
		}
		return zr.IOReadCloser(), nil
	case bytes.HasPrefix(head, xzMagic):
		zr, err := xz.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("open xz stream: %w", err)
		}
		return io.NopCloser(zr), nil
	case isBzip2(head):
		return io.NopCloser(bzip2.NewReader(br)), nil
	}
	return io.NopCloser(br), nil
}
