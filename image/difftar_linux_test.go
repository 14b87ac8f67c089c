package image

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// diffEntries returns "NAME TYPE" for each entry of WriteDiff's tar of dir.
func diffEntries(t *testing.T, dir string, exclude []string) ([]string, map[string]*tar.Header) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteDiff(context.Background(), &buf, dir, exclude); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(&buf)
	var names []string
	headers := map[string]*tar.Header{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names, headers
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, hdr.Name+" "+string(hdr.Typeflag))
		headers[hdr.Name] = hdr
	}
}

func TestWriteDiffOverlayForms(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create overlay whiteouts (character devices 0/0)")
	}
	dir := t.TempDir()
	mustMkdir(t, filepath.Join(dir, "etc"))
	mustWrite(t, filepath.Join(dir, "etc", "hosts"), "")
	mustWrite(t, filepath.Join(dir, "etc", "kept"), "kept")
	if err := unix.Mknod(filepath.Join(dir, "etc", "gone"), unix.S_IFCHR, 0); err != nil {
		t.Fatal(err)
	}
	mustMkdir(t, filepath.Join(dir, "opaque"))
	if err := unix.Lsetxattr(filepath.Join(dir, "opaque"), "trusted.overlay.opaque", []byte("y"), 0); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(dir, "a"), "data")
	if err := os.Link(filepath.Join(dir, "a"), filepath.Join(dir, "b")); err != nil {
		t.Fatal(err)
	}
	// VFS_CAP_REVISION_2 with the effective bit, CAP_NET_BIND_SERVICE
	// permitted (capability.h).
	capability := []byte{1, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	if err := unix.Lsetxattr(filepath.Join(dir, "a"), "security.capability", capability, 0); err != nil {
		t.Fatal(err)
	}

	names, headers := diffEntries(t, dir, []string{"etc/hosts"})
	want := []string{
		"a 0", "b 1", "etc/ 5", "etc/.wh.gone 0", "etc/kept 0",
		"opaque/ 5", "opaque/.wh..wh..opq 0",
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	if got := headers["b"].Linkname; got != "a" {
		t.Errorf("hardlink b points to %q, want a", got)
	}
	if got := headers["a"].PAXRecords["SCHILY.xattr.security.capability"]; got != string(capability) {
		t.Errorf("security.capability of a = %q", got)
	}
	if _, ok := headers["opaque/"].PAXRecords["SCHILY.xattr.trusted.overlay.opaque"]; ok {
		t.Error("the overlay xattr went into the layer")
	}

	again, _ := diffEntries(t, dir, []string{"etc/hosts"})
	if diff := cmp.Diff(names, again); diff != "" {
		t.Errorf("a second WriteDiff differs:\n%s", diff)
	}
}

func mustMkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.Mkdir(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

func mustWrite(t *testing.T, p, data string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
