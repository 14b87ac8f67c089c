package overlay

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// requireRoot skips tests that need CAP_MKNOD for real devices or
// CAP_SYS_ADMIN for trusted.* xattrs.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates device nodes and trusted.* xattrs")
	}
}

// openDir opens dir for the *at and f* calls and closes it at cleanup.
func openDir(t *testing.T, dir string) int {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Close(fd) })
	return fd
}

func TestXattrNames(t *testing.T) {
	tests := []struct {
		userXattr            bool
		wantPrefix, wantName string
	}{
		{userXattr: false, wantPrefix: "trusted.overlay.", wantName: "trusted.overlay.opaque"},
		{userXattr: true, wantPrefix: "user.overlay.", wantName: "user.overlay.opaque"},
	}
	for _, tt := range tests {
		if got := XattrPrefix(tt.userXattr); got != tt.wantPrefix {
			t.Errorf("XattrPrefix(%v) = %q, want %q", tt.userXattr, got, tt.wantPrefix)
		}
		if got := OpaqueXattr(tt.userXattr); got != tt.wantName {
			t.Errorf("OpaqueXattr(%v) = %q, want %q", tt.userXattr, got, tt.wantName)
		}
	}
}

func TestIsOverlayXattr(t *testing.T) {
	tests := map[string]bool{
		"trusted.overlay.opaque":   true,
		"trusted.overlay.redirect": true,
		"user.overlay.metacopy":    true,
		"trusted.overlayfoo":       false,
		"user.comment":             false,
		"security.capability":      false,
		"overlay.opaque":           false,
	}
	for name, want := range tests {
		if got := IsOverlayXattr(name); got != want {
			t.Errorf("IsOverlayXattr(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestCreateWhiteout(t *testing.T) {
	dir := t.TempDir()
	fd := openDir(t, dir)

	if err := CreateWhiteout(fd, "gone"); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(dir, "gone"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR {
		t.Errorf("file type = %#o, want character device", st.Mode&unix.S_IFMT)
	}
	if st.Rdev != 0 {
		t.Errorf("device = %d:%d, want 0:0", unix.Major(st.Rdev), unix.Minor(st.Rdev))
	}

	err := CreateWhiteout(fd, "gone")
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("second CreateWhiteout error = %v, want one matching fs.ErrExist", err)
	}
}

func TestIsWhiteout(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	fd := openDir(t, dir)
	if err := CreateWhiteout(fd, "whiteout"); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mknodat(fd, "null", unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("whiteout", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}

	tests := map[string]bool{
		"whiteout": true,
		"null":     false,
		"file":     false,
		"dir":      false,
		"link":     false,
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			fi, err := os.Lstat(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if got := IsWhiteout(fi); got != want {
				t.Errorf("IsWhiteout = %v, want %v", got, want)
			}
		})
	}
}

func TestMarkOpaque(t *testing.T) {
	requireRoot(t)
	for _, userXattr := range []bool{false, true} {
		t.Run(OpaqueXattr(userXattr), func(t *testing.T) {
			dir := t.TempDir()
			if err := MarkOpaque(openDir(t, dir), userXattr); err != nil {
				t.Fatal(err)
			}

			value := make([]byte, 16)
			n, err := unix.Lgetxattr(dir, OpaqueXattr(userXattr), value)
			if err != nil {
				t.Fatalf("read %s: %v", OpaqueXattr(userXattr), err)
			}
			if got := string(value[:n]); got != "y" {
				t.Errorf("%s = %q, want %q", OpaqueXattr(userXattr), got, "y")
			}
			if _, err := unix.Lgetxattr(dir, OpaqueXattr(!userXattr), value); !errors.Is(err, unix.ENODATA) {
				t.Errorf("read %s: error = %v, want ENODATA", OpaqueXattr(!userXattr), err)
			}

			got, err := IsOpaque(dir, userXattr)
			if err != nil || !got {
				t.Errorf("IsOpaque(%v) = %v, %v, want true", userXattr, got, err)
			}
			got, err = IsOpaque(dir, !userXattr)
			if err != nil || got {
				t.Errorf("IsOpaque(%v) = %v, %v, want false", !userXattr, got, err)
			}
		})
	}
}

func TestIsOpaqueValues(t *testing.T) {
	tests := []struct {
		name  string
		value string // "" leaves the xattr unset
		want  bool
	}{
		{name: "unset", want: false},
		{name: "y", value: "y", want: true},
		{name: "xwhiteouts marker", value: "x", want: false},
		{name: "longer value", value: "yes", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.value != "" {
				if err := unix.Lsetxattr(dir, "user.overlay.opaque", []byte(tt.value), 0); err != nil {
					t.Fatal(err)
				}
			}
			got, err := IsOpaque(dir, true)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("IsOpaque = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestIsOpaqueMissingPath(t *testing.T) {
	_, err := IsOpaque(filepath.Join(t.TempDir(), "missing"), true)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error = %v, want one matching fs.ErrNotExist", err)
	}
}
