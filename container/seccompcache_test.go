package container

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/gocker/gocker/container/initproc"
	"github.com/gocker/gocker/seccomp"
)

func TestCachedSeccomp(t *testing.T) {
	old := initproc.BuildID
	initproc.BuildID = "test-build"
	defer func() { initproc.BuildID = old }()
	dir := filepath.Join(t.TempDir(), ".seccomp")
	caps, err := Capabilities(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := compileSeccomp(nil, caps)
	if err != nil {
		t.Fatal(err)
	}

	first, err := cachedSeccomp(dir, nil, caps)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := os.ReadDir(dir)
	if len(files) != 1 {
		t.Fatalf("cache holds %d files after the first compile, want 1", len(files))
	}
	path := filepath.Join(dir, files[0].Name())
	second, err := cachedSeccomp(dir, nil, caps)
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]byte{"compiled": first.Program, "cached": second.Program} {
		if !bytes.Equal(got, want.Program) {
			t.Errorf("%s program differs from a fresh compile (%d and %d bytes)", name, len(got), len(want.Program))
		}
	}
	if second.Flags != want.Flags {
		t.Errorf("cached flags %d, want %d", second.Flags, want.Flags)
	}

	// A valid cache file with another program is used, which shows that
	// the call reads the cache instead of compiling.
	planted := &seccomp.Filter{Program: bytes.Repeat([]byte{6, 0, 0, 0, 0, 0, 0xff, 0x7f}, 2)}
	if err := os.WriteFile(path, encodeFilter(planted), 0o600); err != nil {
		t.Fatal(err)
	}
	if f, err := cachedSeccomp(dir, nil, caps); err != nil || f.Len() != 2 {
		t.Errorf("with a planted cache file: %v, %v, want its 2 instructions", f, err)
	}

	// A damaged file is compiled again and replaced: one too short, one
	// of whole instructions that are not the filter (the checksum), and
	// one with a byte changed.
	flipped := encodeFilter(want)
	flipped[len(flipped)-3] ^= 1
	for name, data := range map[string][]byte{"short": []byte("short"), "zeros": make([]byte, 16), "zeros with room": make([]byte, 48), "flipped": flipped} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := cachedSeccomp(dir, nil, caps)
		if err != nil || !bytes.Equal(f.Program, want.Program) {
			t.Fatalf("after %s damage: %v, want a fresh compile", name, err)
		}
		if data, _ := os.ReadFile(path); !bytes.Equal(data, encodeFilter(want)) {
			t.Errorf("the cache file with %s damage was not replaced", name)
		}
	}

	// Other capabilities and other builds get files of their own.
	fewer, err := Capabilities(nil, []string{"ALL"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cachedSeccomp(dir, nil, fewer); err != nil {
		t.Fatal(err)
	}
	initproc.BuildID = "other-build"
	if _, err := cachedSeccomp(dir, nil, caps); err != nil {
		t.Fatal(err)
	}
	if files, _ := os.ReadDir(dir); len(files) != 3 {
		t.Errorf("cache holds %d files, want one per capability set and build (3)", len(files))
	}

	// A build without an id keeps no cache.
	initproc.BuildID = ""
	bare := filepath.Join(t.TempDir(), "bare")
	if _, err := cachedSeccomp(bare, nil, caps); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bare); !os.IsNotExist(err) {
		t.Errorf("a build without an id created the cache directory (%v)", err)
	}
}
