// Command synth writes the synthetic multi-layer image of the pull
// benchmark: layer tarballs shaped like a distribution's root filesystem
// (many small text-like files in a deep tree, some large incompressible
// ones), the same bytes for the same seed. With -push it also uploads the
// image built from exactly those tarballs to a registry.
package main

import (
	"archive/tar"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/klauspost/compress/gzip"
)

// layerSpec is the shape of one layer.
type layerSpec struct {
	dirs, smallFiles, largeFiles int
	largeMax                     int // bytes
}

// The four layers hold about 13,000 files in 2,300 directories, with
// 355 MB of data as tar and about 200 MB compressed. They stand for a
// base layer, a library layer, an application layer and a small top
// layer.
var layers = []layerSpec{
	{dirs: 900, smallFiles: 5200, largeFiles: 60, largeMax: 2 << 20},
	{dirs: 700, smallFiles: 4000, largeFiles: 70, largeMax: 2 << 20},
	{dirs: 600, smallFiles: 3300, largeFiles: 60, largeMax: 1 << 20},
	{dirs: 75, smallFiles: 600, largeFiles: 10, largeMax: 1 << 20},
}

// words make the text-like files compress about as well as source code.
var words = []string{"the", "of", "and", "to", "in", "is", "for", "return", "if", "else", "func",
	"struct", "int", "string", "error", "nil", "package", "import", "const", "var", "type",
	"static", "void", "include", "define", "while", "case", "break", "switch", "default"}

func main() {
	out := flag.String("out", "", "directory for layer-N.tar.gz")
	seed := flag.Uint64("seed", 42, "seed of the content")
	push := flag.String("push", "", "also push the image to this reference")
	flag.Parse()
	if *out == "" {
		log.Fatal("synth: -out DIR is required")
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	var paths []string
	for i, spec := range layers {
		p := filepath.Join(*out, fmt.Sprintf("layer-%d.tar.gz", i))
		if err := writeLayer(p, spec, rand.New(rand.NewPCG(*seed, uint64(i)))); err != nil {
			log.Fatal(err)
		}
		paths = append(paths, p)
	}
	if *push != "" {
		if err := pushImage(*push, paths); err != nil {
			log.Fatal(err)
		}
	}
}

func writeLayer(path string, spec layerSpec, rng *rand.Rand) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zw, _ := gzip.NewWriterLevel(f, 6)
	tw := tar.NewWriter(zw)
	mtime := time.Unix(1700000000, 0)
	dirs := []string{}
	for i := 0; i < spec.dirs; i++ {
		name := fmt.Sprintf("d%04d/", i)
		if i > 0 && rng.IntN(3) > 0 {
			name = dirs[rng.IntN(len(dirs))] + name
		}
		dirs = append(dirs, name)
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755, ModTime: mtime}); err != nil {
			return err
		}
	}
	for i := 0; i < spec.smallFiles+spec.largeFiles; i++ {
		large := i >= spec.smallFiles
		size := 2048 + rng.IntN(22<<10)
		if large {
			size = 4096 + rng.IntN(spec.largeMax)
		}
		name := fmt.Sprintf("%sf%05d", dirs[rng.IntN(len(dirs))], i)
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(size), ModTime: mtime}); err != nil {
			return err
		}
		if err := writeContent(tw, size, large, rng); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}

// writeContent writes size bytes: random for large files, Zipf-like words
// for small ones.
func writeContent(w io.Writer, size int, random bool, rng *rand.Rand) error {
	buf := make([]byte, 0, size)
	if random {
		for len(buf) < size {
			buf = append(buf, byte(rng.Uint32()))
		}
	} else {
		for len(buf) < size {
			// Rank r is chosen with probability about 1/r.
			r := int(float64(len(words)) * rng.Float64() * rng.Float64())
			buf = append(buf, words[r]...)
			buf = append(buf, ' ')
		}
	}
	_, err := w.Write(buf[:size])
	return err
}

func pushImage(refStr string, paths []string) error {
	ref, err := name.ParseReference(refStr)
	if err != nil {
		return err
	}
	var ls []v1.Layer
	for _, p := range paths {
		l, err := tarball.LayerFromFile(p)
		if err != nil {
			return err
		}
		ls = append(ls, l)
	}
	img, err := mutate.AppendLayers(empty.Image, ls...)
	if err != nil {
		return err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", "amd64"
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return err
	}
	return remote.Write(ref, img)
}
