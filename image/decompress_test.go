package image

import (
	"archive/tar"
	"bytes"
	stdgzip "compress/gzip"
	"io"
	"os/exec"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
	"go.uber.org/goleak"
)

// sampleTar returns a small tar whose first entry is named firstName.
func sampleTar(t testing.TB, firstName string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range []string{firstName, "etc/hostname"} {
		body := bytes.Repeat([]byte(name+"\n"), 100)
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// compressWith returns data compressed by a writer from newWriter.
func compressWith(t *testing.T, data []byte, newWriter func(io.Writer) (io.WriteCloser, error)) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := newWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// compressWithCommand pipes data through an external compressor, skipping
// the test when it is not installed.
func compressWithCommand(t *testing.T, data []byte, name string, args ...string) []byte {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed, and Go has no %s writer to make test data", name, name)
	}
	cmd := exec.Command(path, args...)
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return out
}

func TestDecompress(t *testing.T) {
	plain := sampleTar(t, "etc/os-release")
	tests := []struct {
		name     string
		compress func(t *testing.T, data []byte) []byte
		plain    []byte // default: the sample tar above
	}{
		{
			name:     "plain tar",
			compress: func(_ *testing.T, data []byte) []byte { return data },
		},
		{
			name:     "plain tar starting with BZh",
			compress: func(_ *testing.T, data []byte) []byte { return data },
			plain:    sampleTar(t, "BZh9file"),
		},
		{
			name:     "empty stream",
			compress: func(_ *testing.T, data []byte) []byte { return data },
			plain:    []byte{},
		},
		{
			name: "gzip",
			compress: func(t *testing.T, data []byte) []byte {
				return compressWith(t, data, func(w io.Writer) (io.WriteCloser, error) { return gzip.NewWriter(w), nil })
			},
		},
		{
			name: "gzip from the standard library",
			compress: func(t *testing.T, data []byte) []byte {
				return compressWith(t, data, func(w io.Writer) (io.WriteCloser, error) { return stdgzip.NewWriter(w), nil })
			},
		},
		{
			name: "gzip with two members",
			compress: func(t *testing.T, data []byte) []byte {
				half := len(data) / 2
				newWriter := func(w io.Writer) (io.WriteCloser, error) { return gzip.NewWriter(w), nil }
				first := compressWith(t, data[:half], newWriter)
				return append(first, compressWith(t, data[half:], newWriter)...)
			},
		},
		{
			name: "zstd",
			compress: func(t *testing.T, data []byte) []byte {
				return compressWith(t, data, func(w io.Writer) (io.WriteCloser, error) { return zstd.NewWriter(w) })
			},
		},
		{
			name: "xz",
			compress: func(t *testing.T, data []byte) []byte {
				return compressWith(t, data, func(w io.Writer) (io.WriteCloser, error) { return xz.NewWriter(w) })
			},
		},
		{
			name: "bzip2",
			compress: func(t *testing.T, data []byte) []byte {
				return compressWithCommand(t, data, "bzip2", "-c")
			},
		},
		{
			name: "bzip2 of an empty stream",
			compress: func(t *testing.T, data []byte) []byte {
				return compressWithCommand(t, data, "bzip2", "-c")
			},
			plain: []byte{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer goleak.VerifyNone(t)
			want := plain
			if tt.plain != nil {
				want = tt.plain
			}
			compressed := tt.compress(t, want)

			r, err := Decompress(bytes.NewReader(compressed))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if err := r.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("uncompressed stream (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecompressCorrupt(t *testing.T) {
	tests := []struct {
		name  string
		input []byte
	}{
		{name: "truncated gzip header", input: []byte{0x1f, 0x8b, 0x08, 0x00}},
		{name: "truncated xz header", input: []byte{0xfd, '7', 'z', 'X', 'Z', 0x00, 0x00, 0x04}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Decompress(bytes.NewReader(tt.input))
			if err == nil {
				_, err = io.ReadAll(r)
				_ = r.Close()
			}
			if err == nil {
				t.Fatal("Decompress and read succeeded, want an error")
			}
		})
	}
}
