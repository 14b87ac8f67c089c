package image

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrDigestMismatch means a blob's content does not hash to the digest
// that the manifest or config announced.
var ErrDigestMismatch = errors.New("digest mismatch")

// blobsDir returns the directory of content-addressed blobs.
func (s *Store) blobsDir() string { return filepath.Join(s.root, "blobs", "sha256") }

// blobPath returns where the blob with digest "sha256:HEX" is kept. The
// digest is checked first, so a hostile manifest cannot name a path
// outside the blob directory.
func (s *Store) blobPath(digest string) string {
	hexPart := strings.TrimPrefix(digest, "sha256:")
	if !isSHA256Hex(hexPart) {
		// Not a valid digest: a name no blob can have.
		return filepath.Join(s.blobsDir(), ".invalid")
	}
	return filepath.Join(s.blobsDir(), hexPart)
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// hasBlob reports whether the blob is stored.
func (s *Store) hasBlob(digest string) bool {
	_, err := os.Stat(s.blobPath(digest))
	return err == nil
}

// readBlob returns a stored blob's content.
func (s *Store) readBlob(digest string) ([]byte, error) {
	return os.ReadFile(s.blobPath(digest))
}

// openBlob opens a stored blob for reading.
func (s *Store) openBlob(digest string) (*os.File, error) {
	f, err := os.Open(s.blobPath(digest))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %s is not stored: %w", digest, err)
	}
	return f, err
}

// writeBlob stores data and returns its digest.
func (s *Store) writeBlob(data []byte) (string, error) {
	w, err := s.newBlobWriter()
	if err != nil {
		return "", err
	}
	if _, err := w.Write(data); err != nil {
		w.Abort()
		return "", err
	}
	return w.Commit("")
}

// blobWriter writes a blob to a temporary file while hashing it, unless
// its source checks the digest, and renames the file to its digest when
// the content is complete. A killed writer leaves a .tmp- file that
// [Store.removeUnusedBlobs] deletes.
type blobWriter struct {
	s    *Store
	f    *os.File
	hash hash.Hash // nil when the source checks the digest itself
	// verified is the digest that the source checked, when hash is nil.
	verified string
	size     int64
}

func (s *Store) newBlobWriter() (*blobWriter, error) {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	f, err := os.OpenFile(filepath.Join(s.blobsDir(), ".tmp-"+hex.EncodeToString(b)), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create blob: %w", err)
	}
	return &blobWriter{s: s, f: f, hash: sha256.New()}, nil
}

// newVerifiedBlobWriter returns a blob writer for a stream that ends with
// an error unless its content has the given digest, as the streams of
// go-containerregistry's remote layers do. It does not hash the content a
// second time.
func (s *Store) newVerifiedBlobWriter(digest string) (*blobWriter, error) {
	w, err := s.newBlobWriter()
	if err != nil {
		return nil, err
	}
	w.hash, w.verified = nil, digest
	return w, nil
}

func (w *blobWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if w.hash != nil {
		w.hash.Write(p[:n])
	}
	w.size += int64(n)
	if err != nil {
		return n, fmt.Errorf("write blob: %w", err)
	}
	return n, nil
}

// Digest returns the digest of what was written so far.
func (w *blobWriter) Digest() string {
	if w.hash == nil {
		return w.verified
	}
	return "sha256:" + hex.EncodeToString(w.hash.Sum(nil))
}

// Commit stores the blob under its digest and returns the digest. When
// want is not empty and differs from the content's digest, the blob is
// discarded and the error matches [ErrDigestMismatch].
func (w *blobWriter) Commit(want string) (string, error) {
	digest := w.Digest()
	if err := w.f.Close(); err != nil {
		_ = os.Remove(w.f.Name())
		return "", fmt.Errorf("write blob: %w", err)
	}
	if want != "" && want != digest {
		_ = os.Remove(w.f.Name())
		return "", fmt.Errorf("%w: content has %s, want %s", ErrDigestMismatch, digest, want)
	}
	if err := os.Rename(w.f.Name(), w.s.blobPath(digest)); err != nil {
		_ = os.Remove(w.f.Name())
		return "", fmt.Errorf("store blob %s: %w", digest, err)
	}
	return digest, nil
}

// Abort discards the blob.
func (w *blobWriter) Abort() {
	_ = w.f.Close()
	_ = os.Remove(w.f.Name())
}

// copyBlob stores what r yields, checks it against want when want is
// not empty, and returns the digest and size.
func (s *Store) copyBlob(r io.Reader, want string) (string, int64, error) {
	w, err := s.newBlobWriter()
	if err != nil {
		return "", 0, err
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Abort()
		return "", 0, err
	}
	digest, err := w.Commit(want)
	return digest, w.size, err
}
