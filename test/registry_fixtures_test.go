//go:build integration

package test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/compression"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// tarEntry is one entry of a crafted layer.
type tarEntry struct {
	hdr  tar.Header
	body string
}

// buildTar returns a tar of entries; a file entry's size is its body's.
func buildTar(t *testing.T, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := e.hdr
		if hdr.Typeflag == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		if hdr.ModTime.IsZero() {
			hdr.ModTime = time.Unix(1700000000, 0)
		}
		if hdr.Mode == 0 {
			hdr.Mode = 0o644
			if hdr.Typeflag == tar.TypeDir {
				hdr.Mode = 0o755
			}
		}
		if err := tw.WriteHeader(&hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func file(name, body string) tarEntry {
	return tarEntry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name}, body: body}
}

func dir(name string) tarEntry {
	return tarEntry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: name}}
}

// layerOf makes a layer of a plain tar compressed with comp ("gzip",
// "zstd" or "none").
func layerOf(t *testing.T, data []byte, comp string) v1.Layer {
	t.Helper()
	if comp == "none" {
		return static.NewLayer(data, types.OCIUncompressedLayer)
	}
	opener := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	opts := []tarball.LayerOption{}
	if comp == "zstd" {
		opts = append(opts, tarball.WithCompression(compression.ZStd), tarball.WithMediaType(types.OCILayerZStd))
	}
	l, err := tarball.LayerFromOpener(opener, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// imageOf makes an image of layers with an OCI or Docker manifest.
func imageOf(t *testing.T, oci bool, arch string, cmd []string, layers ...v1.Layer) v1.Image {
	t.Helper()
	base := empty.Image
	if oci {
		base = mutate.MediaType(base, types.OCIManifestSchema1)
		base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	}
	img, err := mutate.AppendLayers(base, layers...)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", arch
	cfg.Config.Cmd = cmd
	cfg.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// readTarGz returns the entries of a gzip-compressed tar.
func readTarGz(t *testing.T, path string) []tarEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var entries []tarEntry
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return entries
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, tarEntry{hdr: *hdr, body: string(body)})
	}
}

// alpineLayers splits the Alpine root filesystem into four layers: lib/
// (zstd), usr/ (uncompressed), the rest (gzip), and a gzip layer that
// deletes /etc/motd, makes /etc/apk opaque with one file and adds
// /layer4.
func alpineLayers(t *testing.T) []v1.Layer {
	t.Helper()
	var rest, lib, usr []tarEntry
	for _, e := range readTarGz(t, requireAlpine(t)) {
		name := strings.TrimPrefix(e.hdr.Name, "./")
		switch {
		case strings.HasPrefix(name, "lib/"):
			lib = append(lib, e)
		case strings.HasPrefix(name, "usr/"):
			usr = append(usr, e)
		default:
			rest = append(rest, e)
		}
	}
	top := buildTar(t, []tarEntry{
		dir("etc/"),
		file("etc/.wh.motd", ""),
		dir("etc/apk/"),
		file("etc/apk/.wh..wh..opq", ""),
		file("etc/apk/only", "opaque\n"),
		file("layer4", "fourth layer\n"),
	})
	return []v1.Layer{
		layerOf(t, buildTar(t, rest), "gzip"),
		layerOf(t, buildTar(t, lib), "zstd"),
		layerOf(t, buildTar(t, usr), "none"),
		layerOf(t, top, "gzip"),
	}
}

// multiLayerAlpine is the Alpine root filesystem as an OCI image of four
// layers.
func multiLayerAlpine(t *testing.T) v1.Image {
	t.Helper()
	return imageOf(t, true, runtime.GOARCH, []string{"/bin/sh"}, alpineLayers(t)...)
}

// platformIndex is an index of the Alpine image (Docker manifest) for
// this machine and a one-file arm64 image.
func platformIndex(t *testing.T) v1.ImageIndex {
	t.Helper()
	host := imageOf(t, false, runtime.GOARCH, []string{"/bin/sh"}, alpineLayers(t)[:3]...)
	arm := imageOf(t, true, "arm64", []string{"/arch"}, layerOf(t, buildTar(t, []tarEntry{file("arch", "arm64\n")}), "gzip"))
	return mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}}},
		mutate.IndexAddendum{Add: host, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: runtime.GOARCH}}},
	)
}

// diffIDs returns an image's diff ids as strings.
func diffIDs(t *testing.T, img v1.Image) []string {
	t.Helper()
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, h := range cfg.RootFS.DiffIDs {
		out = append(out, h.String())
	}
	return out
}

// layerFromFile makes a layer of a tarball, kept as it is compressed.
func layerFromFile(t *testing.T, path string) v1.Layer {
	t.Helper()
	l, err := tarball.LayerFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
