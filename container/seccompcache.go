package container

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/gocker/gocker/container/initproc"
	"github.com/gocker/gocker/internal/atomicfile"
	"github.com/gocker/gocker/seccomp"
)

// seccompCacheDir returns the directory of compiled seccomp filters, which
// starts read instead of compiling Docker's profile again. In a fresh
// gocker process the compile costs several tenths of a millisecond of CPU
// (an estimate from profiles), while the init, newuidmap and newgidmap
// compete for the same CPUs.
func (s *Store) seccompCacheDir() string {
	return filepath.Join(s.root(), "cache", "seccomp")
}

// root returns the directory that contains the container store, the image
// store and the files they share.
func (s *Store) root() string { return filepath.Dir(s.dir) }

// seccompCacheKey returns the cache file name of the filter for the
// profile and capabilities, or "" for a build without a build id. The
// build id stands for the compiler and Docker's default profile, which
// come with the binary.
func seccompCacheKey(profile []byte, caps []string) string {
	if initproc.BuildID == "" {
		return ""
	}
	h := sha256.New()
	for _, part := range []string{initproc.BuildID, runtime.GOARCH, string(profile), strings.Join(caps, ",")} {
		_ = binary.Write(h, binary.LittleEndian, uint64(len(part)))
		h.Write([]byte(part))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// cachedSeccomp compiles the filter for the profile (nil: Docker's
// default) and capabilities, or reads it from the cache in dir where an
// earlier start left it.
func cachedSeccomp(dir string, profile []byte, caps []string) (*seccomp.Filter, error) {
	key := seccompCacheKey(profile, caps)
	if dir == "" || key == "" {
		return compileSeccomp(profile, caps)
	}
	path := filepath.Join(dir, key)
	if f, err := readCachedFilter(path); err == nil {
		return f, nil
	}
	f, err := compileSeccomp(profile, caps)
	if err != nil || f == nil {
		return f, err
	}
	// A failure to keep the filter costs the next start the compile.
	if os.MkdirAll(dir, 0o700) == nil {
		_ = atomicfile.WriteFile(path, encodeFilter(f), 0o600)
	}
	return f, nil
}

// encodeFilter returns the content of a cache file: the SHA-256 of the
// rest (32 bytes), the filter's flags (8 bytes, little endian) and its
// program. The checksum turns a damaged file into a fresh compile instead
// of a filter that the kernel rejects at every start.
func encodeFilter(f *seccomp.Filter) []byte {
	body := binary.LittleEndian.AppendUint64(nil, uint64(f.Flags))
	body = append(body, f.Program...)
	sum := sha256.Sum256(body)
	return append(sum[:], body...)
}

// readCachedFilter decodes the cache file at path, or returns
// errDamagedCache when its checksum or length is wrong.
func readCachedFilter(path string) (*seccomp.Filter, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	const insn = 8 // struct sock_filter
	if len(data) < sha256.Size+8+insn {
		return nil, errDamagedCache
	}
	body := data[sha256.Size:]
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], data[:sha256.Size]) || (len(body)-8)%insn != 0 {
		return nil, errDamagedCache
	}
	return &seccomp.Filter{Flags: uint(binary.LittleEndian.Uint64(body)), Program: body[8:]}, nil
}

var errDamagedCache = errors.New("damaged seccomp cache file")
