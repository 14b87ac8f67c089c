package image

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/sys/unix"

	"github.com/gocker/gocker/userns"
)

// Environment of the test binary re-executed in a user namespace. The
// role variable selects the child's work in TestMain.
const (
	roleEnv         = "_GOCKER_TEST_ROLE"
	roleApplyUserNS = "apply-layer-userns"
	// subIDBase and subIDCount are the host ids that the test user
	// namespace maps container ids 0 to 65535 to.
	subIDBase  = 100000
	subIDCount = 65536
)

func TestMain(m *testing.M) {
	if os.Getenv(roleEnv) == roleApplyUserNS {
		os.Exit(runApplyChild())
	}
	os.Exit(m.Run())
}

// runApplyChild applies the tar on stdin to the directory open as fd 3,
// as root in the test user namespace, and prints the ApplyResult as JSON.
// Errors and log lines go to stderr.
func runApplyChild() int {
	_ = os.Unsetenv(roleEnv)
	maps := []userns.IDMap{{ContainerID: 0, HostID: subIDBase, Size: subIDCount}}
	res, err := ApplyLayer(context.Background(), "/proc/self/fd/3", os.Stdin, ApplyOptions{
		UserXattr: true,
		UIDs:      maps,
		GIDs:      maps,
		Logger:    slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// requireRoot skips tests that chown to arbitrary ids, create devices or
// write trusted.* xattrs.
func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: chown to arbitrary ids, mknod and trusted.* xattrs")
	}
}

// requireUserNS skips tests that need to create a user namespace.
func requireUserNS(t testing.TB) {
	t.Helper()
	data, err := os.ReadFile("/proc/sys/user/max_user_namespaces")
	if err != nil || strings.TrimSpace(string(data)) == "0" {
		t.Skip("needs user namespaces: /proc/sys/user/max_user_namespaces is missing or 0")
	}
}

var testTime = time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)

// entry is one tar entry of a test layer.
type entry struct {
	tar.Header
	Body string
}

func reg(name, body string, mode int64) entry {
	return entry{Header: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode}, Body: body}
}

func dir(name string, mode int64) entry {
	return entry{Header: tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode}}
}

func symlink(name, target string) entry {
	return entry{Header: tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777}}
}

func hardlink(name, target string) entry {
	return entry{Header: tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: target, Mode: 0o644}}
}

func device(typeflag byte, name string, major, minor int64, mode int64) entry {
	return entry{Header: tar.Header{Typeflag: typeflag, Name: name, Devmajor: major, Devminor: minor, Mode: mode}}
}

func owned(e entry, uid, gid int) entry {
	e.Uid, e.Gid = uid, gid
	return e
}

// withXattrs adds SCHILY.xattr PAX records from name, value pairs.
func withXattrs(e entry, pairs ...string) entry {
	e.PAXRecords = map[string]string{}
	for i := 0; i < len(pairs); i += 2 {
		e.PAXRecords[paxXattrPrefix+pairs[i]] = pairs[i+1]
	}
	return e
}

// buildTar writes entries as a tar. Regular files get their size from
// Body and entries without a time get testTime.
func buildTar(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := e.Header
		if hdr.ModTime.IsZero() && hdr.Typeflag != tar.TypeXGlobalHeader {
			hdr.ModTime = testTime
		}
		if hdr.Typeflag == tar.TypeReg {
			hdr.Size = int64(len(e.Body))
		}
		if len(hdr.PAXRecords) > 0 || !hdr.AccessTime.IsZero() || hdr.ModTime.Nanosecond() != 0 {
			hdr.Format = tar.FormatPAX
		}
		if err := tw.WriteHeader(&hdr); err != nil {
			t.Fatalf("write header %s: %v", hdr.Name, err)
		}
		if _, err := tw.Write([]byte(e.Body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func applyTar(dir string, data []byte, opts ApplyOptions) (ApplyResult, error) {
	return ApplyLayer(context.Background(), dir, bytes.NewReader(data), opts)
}

// node is what snapshot records about one file.
type node struct {
	Type     string // file, dir, symlink, fifo, char, block
	Mode     uint32 // permission bits with setuid, setgid and sticky; 0 for symlinks
	UID, GID uint32
	Content  string
	Target   string // symlink target
	Dev      string // "major:minor" of devices
	Xattrs   map[string]string
	Nlink    uint64
	MTime    int64 // nanoseconds since the epoch
}

func fileNode(content string, mode uint32) node {
	return node{Type: "file", Content: content, Mode: mode}
}

func dirNode(mode uint32) node { return node{Type: "dir", Mode: mode} }

func linkNode(target string) node { return node{Type: "symlink", Target: target} }

func devNode(typ string, major, minor uint32, mode uint32) node {
	return node{Type: typ, Dev: fmt.Sprintf("%d:%d", major, minor), Mode: mode}
}

// whiteoutNode is an overlay whiteout as mknod creates it for root.
var whiteoutNode = devNode("char", 0, 0, 0)

func ownedNode(n node, uid, gid uint32) node {
	n.UID, n.GID = uid, gid
	return n
}

func xattrNode(n node, pairs ...string) node {
	n.Xattrs = map[string]string{}
	for i := 0; i < len(pairs); i += 2 {
		n.Xattrs[pairs[i]] = pairs[i+1]
	}
	return n
}

// ignoreLinkCountAndTime compares trees by content, owner, mode and type.
var ignoreLinkCountAndTime = cmpopts.IgnoreFields(node{}, "Nlink", "MTime")

// snapshot records every file below root, by slash-separated relative
// name, without following symlinks. A directory named skip is left out
// with everything below it.
func snapshot(t *testing.T, root, skip string) map[string]node {
	t.Helper()
	tree := map[string]node{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if rel == skip {
			return filepath.SkipDir
		}
		tree[filepath.ToSlash(rel)] = statNode(t, p)
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return tree
}

func statNode(t *testing.T, p string) node {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	n := node{
		Mode:   st.Mode & 0o7777,
		UID:    st.Uid,
		GID:    st.Gid,
		Xattrs: readXattrs(t, p),
		Nlink:  st.Nlink,
		MTime:  st.Mtim.Nano(),
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		n.Type = "file"
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		n.Content = string(data)
	case unix.S_IFDIR:
		n.Type = "dir"
	case unix.S_IFLNK:
		n.Type = "symlink"
		n.Mode = 0
		target, err := os.Readlink(p)
		if err != nil {
			t.Fatal(err)
		}
		n.Target = target
	case unix.S_IFIFO:
		n.Type = "fifo"
	case unix.S_IFCHR, unix.S_IFBLK:
		n.Type = "char"
		if st.Mode&unix.S_IFMT == unix.S_IFBLK {
			n.Type = "block"
		}
		n.Dev = fmt.Sprintf("%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))
	default:
		t.Fatalf("%s: unexpected file type %#o", p, st.Mode&unix.S_IFMT)
	}
	return n
}

// readXattrs returns the xattrs of p, or nil when it has none.
func readXattrs(t *testing.T, p string) map[string]string {
	t.Helper()
	names := make([]byte, 64<<10)
	n, err := unix.Llistxattr(p, names)
	if err != nil {
		t.Fatalf("list xattrs of %s: %v", p, err)
	}
	if n == 0 {
		return nil
	}
	xattrs := map[string]string{}
	for _, name := range strings.Split(strings.TrimSuffix(string(names[:n]), "\x00"), "\x00") {
		value := make([]byte, 64<<10)
		m, err := unix.Lgetxattr(p, name, value)
		if err != nil {
			t.Fatalf("read xattr %s of %s: %v", name, p, err)
		}
		xattrs[name] = string(value[:m])
	}
	return xattrs
}

// capV2 returns a security.capability value of revision 2 with the
// effective flag and the capabilities in permitted (bits of the first
// 32 capabilities).
func capV2(permitted uint32) string {
	b := binary.LittleEndian.AppendUint32(nil, 0x02000000|0x1)
	b = binary.LittleEndian.AppendUint32(b, permitted)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, 0)
	return string(b)
}

// capV3 returns the revision 3 form of capV2(permitted), which the kernel
// stores when root of a user namespace sets it: the value also names the
// host uid of that namespace's root.
func capV3(permitted, rootID uint32) string {
	b := binary.LittleEndian.AppendUint32(nil, 0x03000000|0x1)
	b = binary.LittleEndian.AppendUint32(b, permitted)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, rootID)
	return string(b)
}

const capNetRaw = 1 << 13

// newLayerDir returns an empty layer directory inside a fresh test
// directory.
func newLayerDir(t *testing.T) string {
	t.Helper()
	layer := filepath.Join(t.TempDir(), "layer")
	if err := os.Mkdir(layer, 0o755); err != nil {
		t.Fatal(err)
	}
	return layer
}

func TestApplyLayerTree(t *testing.T) {
	requireRoot(t)
	longName := "deep/" + strings.Repeat("n", 150)
	longTarget := "/" + strings.Repeat("t", 200)
	tests := []struct {
		name    string
		entries []entry
		opts    ApplyOptions
		want    map[string]node
	}{
		{
			name: "files owners and modes",
			entries: []entry{
				dir("etc/", 0o755),
				reg("etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0o644),
				owned(reg("etc/shadow", "root:*::0:::::\n", 0o640), 0, 42),
				reg("usr/bin/su", "su", 0o4755),
				owned(reg("usr/bin/wall", "wall", 0o2755), 0, 5),
				dir("tmp/", 0o1777),
				owned(dir("home/user/", 0o700), 1000, 1000),
				owned(reg("home/user/notes", "hi", 0o600), 1000, 1000),
				owned(dir("srv/", 0o2775), 0, 50),
				reg("empty", "", 0o644),
				// A mode with the file type bits that some writers add.
				reg("typed", "x", 0o100755),
			},
			want: map[string]node{
				"etc":             dirNode(0o755),
				"etc/passwd":      fileNode("root:x:0:0::/root:/bin/sh\n", 0o644),
				"etc/shadow":      ownedNode(fileNode("root:*::0:::::\n", 0o640), 0, 42),
				"usr":             dirNode(0o755),
				"usr/bin":         dirNode(0o755),
				"usr/bin/su":      fileNode("su", 0o4755),
				"usr/bin/wall":    ownedNode(fileNode("wall", 0o2755), 0, 5),
				"tmp":             dirNode(0o1777),
				"home":            dirNode(0o755),
				"home/user":       ownedNode(dirNode(0o700), 1000, 1000),
				"home/user/notes": ownedNode(fileNode("hi", 0o600), 1000, 1000),
				"srv":             ownedNode(dirNode(0o2775), 0, 50),
				"empty":           fileNode("", 0o644),
				"typed":           fileNode("x", 0o755),
			},
		},
		{
			name: "absolute and dotted names are relative",
			entries: []entry{
				reg("/abs/file", "a", 0o644),
				reg("./rel/file", "r", 0o644),
				reg("//double//slash", "d", 0o644),
				reg("abs/../abs/./other", "o", 0o644),
			},
			want: map[string]node{
				"abs":          dirNode(0o755),
				"abs/file":     fileNode("a", 0o644),
				"abs/other":    fileNode("o", 0o644),
				"rel":          dirNode(0o755),
				"rel/file":     fileNode("r", 0o644),
				"double":       dirNode(0o755),
				"double/slash": fileNode("d", 0o644),
			},
		},
		{
			name:    "missing parents are created",
			entries: []entry{reg("a/b/c/file", "f", 0o600)},
			want: map[string]node{
				"a":          dirNode(0o755),
				"a/b":        dirNode(0o755),
				"a/b/c":      dirNode(0o755),
				"a/b/c/file": fileNode("f", 0o600),
			},
		},
		{
			name: "symlinks are stored and never followed",
			entries: []entry{
				owned(symlink("abs", "/etc/passwd"), 7, 8),
				symlink("up", "../../outside"),
				symlink("dangling", "nowhere"),
				symlink("loop", "loop"),
				reg("target", "t", 0o644),
				symlink("dir/link", "../target"),
			},
			want: map[string]node{
				"abs":      ownedNode(linkNode("/etc/passwd"), 7, 8),
				"up":       linkNode("../../outside"),
				"dangling": linkNode("nowhere"),
				"loop":     linkNode("loop"),
				"target":   fileNode("t", 0o644),
				"dir":      dirNode(0o755),
				"dir/link": linkNode("../target"),
			},
		},
		{
			name: "long names and link targets",
			entries: []entry{
				reg(longName, "long", 0o644),
				symlink("longlink", longTarget),
			},
			want: map[string]node{
				"deep":     dirNode(0o755),
				longName:   fileNode("long", 0o644),
				"longlink": linkNode(longTarget),
			},
		},
		{
			name: "file then directory then symlink at one name",
			entries: []entry{
				reg("x", "file", 0o644),
				dir("x/", 0o755),
				reg("x/child", "c", 0o644),
				symlink("x", "target"),
			},
			want: map[string]node{"x": linkNode("target")},
		},
		{
			name: "directory tree replaced by file",
			entries: []entry{
				dir("d/", 0o755),
				dir("d/sub/deeper/", 0o700),
				reg("d/sub/deeper/f", "f", 0o644),
				symlink("d/sub/root", "/"),
				device(tar.TypeFifo, "d/fifo", 0, 0, 0o644),
				reg("d/sub/deeper/after", "a", 0o644),
				reg("d", "now a file", 0o600),
			},
			want: map[string]node{"d": fileNode("now a file", 0o600)},
		},
		{
			name: "symlink replaced by directory",
			entries: []entry{
				symlink("s", "/etc"),
				dir("s/", 0o750),
				reg("s/f", "inside", 0o644),
			},
			want: map[string]node{
				"s":   dirNode(0o750),
				"s/f": fileNode("inside", 0o644),
			},
		},
		{
			name: "fifo and symlink replaced by files",
			entries: []entry{
				device(tar.TypeFifo, "p", 0, 0, 0o644),
				reg("p", "was a fifo", 0o644),
				symlink("l", "p"),
				reg("l", "was a symlink", 0o644),
			},
			want: map[string]node{
				"p": fileNode("was a fifo", 0o644),
				"l": fileNode("was a symlink", 0o644),
			},
		},
		{
			name: "existing directory kept and updated",
			entries: []entry{
				dir("d/", 0o700),
				reg("d/f", "f", 0o644),
				owned(dir("d/", 0o750), 3, 4),
			},
			want: map[string]node{
				"d":   ownedNode(dirNode(0o750), 3, 4),
				"d/f": fileNode("f", 0o644),
			},
		},
		{
			name: "file replaced by file",
			entries: []entry{
				reg("f", "first", 0o4755),
				reg("f", "second", 0o644),
			},
			want: map[string]node{"f": fileNode("second", 0o644)},
		},
		{
			name: "hardlinks",
			entries: []entry{
				reg("f", "data", 0o640),
				hardlink("h", "f"),
				hardlink("sub/h2", "/f"),
				symlink("s", "f"),
				hardlink("hs", "s"),
				reg("old", "replaced by a link", 0o644),
				hardlink("old", "./f"),
			},
			want: map[string]node{
				"f":      fileNode("data", 0o640),
				"h":      fileNode("data", 0o640),
				"sub":    dirNode(0o755),
				"sub/h2": fileNode("data", 0o640),
				"s":      linkNode("f"),
				"hs":     linkNode("f"),
				"old":    fileNode("data", 0o640),
			},
		},
		{
			name: "fifo and devices",
			entries: []entry{
				device(tar.TypeFifo, "run/fifo", 0, 0, 0o620),
				device(tar.TypeChar, "dev/null", 1, 3, 0o666),
				owned(device(tar.TypeChar, "dev/tty", 5, 0, 0o620), 0, 5),
				device(tar.TypeBlock, "dev/loop0", 7, 0, 0o660),
			},
			want: map[string]node{
				"run":       dirNode(0o755),
				"run/fifo":  node{Type: "fifo", Mode: 0o620},
				"dev":       dirNode(0o755),
				"dev/null":  devNode("char", 1, 3, 0o666),
				"dev/tty":   ownedNode(devNode("char", 5, 0, 0o620), 0, 5),
				"dev/loop0": devNode("block", 7, 0, 0o660),
			},
		},
		{
			name: "whiteouts and opaque directories",
			entries: []entry{
				dir("etc/", 0o755),
				reg("etc/.wh.hosts", "", 0o644),
				reg(".wh.gone", "", 0o644),
				reg(".wh..hidden", "", 0o644),
				reg("var/lib/.wh..wh..opq", "", 0o644),
				dir("opaque-later/", 0o700),
				reg("opaque-later/.wh..wh..opq", "", 0o644),
			},
			want: map[string]node{
				"etc":          dirNode(0o755),
				"etc/hosts":    whiteoutNode,
				"gone":         whiteoutNode,
				".hidden":      whiteoutNode,
				"var":          dirNode(0o755),
				"var/lib":      xattrNode(dirNode(0o755), "trusted.overlay.opaque", "y"),
				"opaque-later": xattrNode(dirNode(0o700), "trusted.overlay.opaque", "y"),
			},
		},
		{
			name: "whiteout keeps entries of its own layer",
			entries: []entry{
				reg("a", "kept", 0o644),
				reg(".wh.a", "", 0o644),
				reg(".wh.b", "", 0o644),
				reg("b", "replaces the whiteout", 0o644),
				dir("c/", 0o755),
				reg("c/f", "f", 0o644),
				reg(".wh.c", "", 0o644),
			},
			want: map[string]node{
				"a":   fileNode("kept", 0o644),
				"b":   fileNode("replaces the whiteout", 0o644),
				"c":   dirNode(0o755),
				"c/f": fileNode("f", 0o644),
			},
		},
		{
			name: "opaque directory with user xattr",
			opts: ApplyOptions{UserXattr: true},
			entries: []entry{
				dir("d/", 0o755),
				reg("d/.wh..wh..opq", "", 0o644),
			},
			want: map[string]node{
				"d": xattrNode(dirNode(0o755), "user.overlay.opaque", "y"),
			},
		},
		{
			name: "xattrs as root",
			entries: []entry{
				withXattrs(reg("bin/ping", "ping", 0o4755),
					"security.capability", capV2(capNetRaw),
					"user.comment", "hello",
					"trusted.note", "kept as root",
					"security.selinux", "system_u:object_r:bin_t:s0"),
				withXattrs(dir("d/", 0o755), "user.dir", "1"),
			},
			want: map[string]node{
				"bin": dirNode(0o755),
				"bin/ping": xattrNode(fileNode("ping", 0o4755),
					"security.capability", capV2(capNetRaw),
					"user.comment", "hello",
					"trusted.note", "kept as root"),
				"d": xattrNode(dirNode(0o755), "user.dir", "1"),
			},
		},
		{
			name: "xattrs with user xattr drop trusted",
			opts: ApplyOptions{UserXattr: true},
			entries: []entry{
				withXattrs(reg("f", "f", 0o644), "trusted.note", "dropped", "user.comment", "kept"),
			},
			want: map[string]node{
				"f": xattrNode(fileNode("f", 0o644), "user.comment", "kept"),
			},
		},
		{
			name: "owners inside the mapped range",
			opts: ApplyOptions{
				UIDs: []userns.IDMap{{ContainerID: 0, HostID: 0, Size: 1}, {ContainerID: 1000, HostID: 1000, Size: 10}},
				GIDs: []userns.IDMap{{ContainerID: 0, HostID: 0, Size: 2000}},
			},
			entries: []entry{
				owned(reg("f", "f", 0o644), 1009, 1999),
			},
			want: map[string]node{
				"f": ownedNode(fileNode("f", 0o644), 1009, 1999),
			},
		},
		{
			name: "aufs metadata and global headers skipped",
			entries: []entry{
				{Header: tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header", PAXRecords: map[string]string{"comment": "abc"}}},
				dir(".wh..wh.plnk/", 0o700),
				reg(".wh..wh.plnk/123.456", "aufs hardlink", 0o644),
				reg(".wh..wh.aufs", "", 0o644),
				reg("d/.wh..wh.orph", "", 0o644),
				reg("keep", "k", 0o644),
			},
			want: map[string]node{
				"keep": fileNode("k", 0o644),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			layer := newLayerDir(t)
			if _, err := applyTar(layer, buildTar(t, tt.entries...), tt.opts); err != nil {
				t.Fatal(err)
			}
			got := snapshot(t, layer, "")
			if diff := cmp.Diff(tt.want, got, ignoreLinkCountAndTime); diff != "" {
				t.Errorf("layer tree (-want +got):\n%s", diff)
			}
		})
	}
}

func TestApplyLayerHardlinkInodes(t *testing.T) {
	requireRoot(t)
	layer := newLayerDir(t)
	data := buildTar(t,
		reg("f", "data", 0o644),
		hardlink("h", "f"),
		hardlink("sub/h2", "/f"),
		symlink("s", "f"),
		hardlink("hs", "s"),
	)
	if _, err := applyTar(layer, data, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	inode := func(name string) (ino, nlink uint64) {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(layer, name), &st); err != nil {
			t.Fatal(err)
		}
		return st.Ino, st.Nlink
	}
	fileIno, fileLinks := inode("f")
	for _, name := range []string{"h", "sub/h2"} {
		if ino, _ := inode(name); ino != fileIno {
			t.Errorf("inode of %s = %d, want %d (the inode of f)", name, ino, fileIno)
		}
	}
	if fileLinks != 3 {
		t.Errorf("link count of f = %d, want 3", fileLinks)
	}
	symlinkIno, _ := inode("s")
	if ino, _ := inode("hs"); ino != symlinkIno {
		t.Errorf("inode of hs = %d, want %d (the symlink s itself)", ino, symlinkIno)
	}
}

func TestApplyLayerRootEntry(t *testing.T) {
	requireRoot(t)
	layer := newLayerDir(t)
	data := buildTar(t,
		owned(dir("./", 0o750), 5, 6),
		reg("f", "f", 0o644),
		reg(".wh..wh..opq", "", 0o644),
	)
	if _, err := applyTar(layer, data, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	got := statNode(t, layer)
	want := xattrNode(ownedNode(dirNode(0o750), 5, 6), "trusted.overlay.opaque", "y")
	want.MTime = testTime.UnixNano()
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(node{}, "Nlink")); diff != "" {
		t.Errorf("layer root (-want +got):\n%s", diff)
	}
}

func TestApplyLayerTimes(t *testing.T) {
	requireRoot(t)
	dirTime := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	fileTime := time.Date(2002, 2, 2, 2, 2, 2, 123456789, time.UTC)
	accessTime := time.Date(2003, 3, 3, 3, 3, 3, 0, time.UTC)
	linkTime := time.Date(2004, 4, 4, 4, 4, 4, 0, time.UTC)
	fifoTime := time.Date(2005, 5, 5, 5, 5, 5, 0, time.UTC)
	replacedTime := time.Date(2006, 6, 6, 6, 6, 6, 0, time.UTC)

	at := func(e entry, mtime time.Time) entry {
		e.ModTime = mtime
		return e
	}
	file := at(reg("d/f", "f", 0o644), fileTime)
	file.AccessTime = accessTime
	layer := newLayerDir(t)
	data := buildTar(t,
		at(dir("d/", 0o755), dirTime),
		file,
		at(symlink("d/l", "f"), linkTime),
		at(device(tar.TypeFifo, "d/p", 0, 0, 0o644), fifoTime),
		at(dir("gone/", 0o755), dirTime),
		at(reg("gone", "a file now", 0o644), replacedTime),
	)
	if _, err := applyTar(layer, data, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		mtime time.Time
		atime time.Time // zero: not checked
	}{
		{name: "d", mtime: dirTime},
		{name: "d/f", mtime: fileTime, atime: accessTime},
		{name: "d/l", mtime: linkTime},
		{name: "d/p", mtime: fifoTime},
		{name: "gone", mtime: replacedTime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st unix.Stat_t
			if err := unix.Lstat(filepath.Join(layer, tt.name), &st); err != nil {
				t.Fatal(err)
			}
			if got := time.Unix(st.Mtim.Unix()).UTC(); !got.Equal(tt.mtime) {
				t.Errorf("mtime = %v, want %v", got, tt.mtime)
			}
			if tt.atime.IsZero() {
				return
			}
			if got := time.Unix(st.Atim.Unix()).UTC(); !got.Equal(tt.atime) {
				t.Errorf("atime = %v, want %v", got, tt.atime)
			}
		})
	}
}

// hostileLayout is the directory tree of a hostile layer test: base
// contains the empty layer directory and a sibling directory outside,
// with outside/file, that no entry may reach.
type hostileLayout struct {
	base, layer, outside string
}

func newHostileLayout(t *testing.T) hostileLayout {
	t.Helper()
	base := t.TempDir()
	l := hostileLayout{base: base, layer: filepath.Join(base, "layer"), outside: filepath.Join(base, "outside")}
	for _, d := range []string{l.layer, l.outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(l.outside, "file"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestApplyLayerHostile(t *testing.T) {
	requireRoot(t)
	mapped := []userns.IDMap{{ContainerID: 0, HostID: subIDBase, Size: subIDCount}}
	tests := []struct {
		name    string
		entries func(l hostileLayout) []entry
		opts    ApplyOptions
		wantErr error
		// wantMsg are substrings of the error message, the entry name
		// among them.
		wantMsg []string
		// absent are names in the layer that must not exist afterwards,
		// because the failing entry was rejected before any write.
		absent []string
	}{
		{
			name:    "dotdot name",
			entries: func(hostileLayout) []entry { return []entry{reg("../evil", "x", 0o644)} },
			wantErr: ErrUnsafeLayerPath,
			wantMsg: []string{"layer entry ../evil:", "leaves the layer directory"},
		},
		{
			name:    "dotdot into the sibling",
			entries: func(hostileLayout) []entry { return []entry{reg("../outside/file", "overwritten", 0o644)} },
			wantErr: ErrUnsafeLayerPath,
			wantMsg: []string{"layer entry ../outside/file:"},
		},
		{
			name:    "dotdot inside a name",
			entries: func(hostileLayout) []entry { return []entry{reg("a/../../outside/evil", "x", 0o644)} },
			wantErr: ErrUnsafeLayerPath,
			wantMsg: []string{"layer entry a/../../outside/evil:"},
		},
		{
			name:    "absolute dotdot name",
			entries: func(hostileLayout) []entry { return []entry{reg("/../outside/evil", "x", 0o644)} },
			wantErr: ErrUnsafeLayerPath,
			wantMsg: []string{"layer entry /../outside/evil:"},
		},
		{
			name: "absolute symlink then entry through it",
			entries: func(l hostileLayout) []entry {
				return []entry{symlink("s", l.outside), reg("s/evil", "x", 0o644)}
			},
			wantErr: ErrUnsafeLayerPath,
			wantMsg: []string{"layer entry s/evil:", "symlink s"},
		},
		{
			name: "relative symlink to the sibling then entry through it",
			entries: func(hostileLayout) []entry {
				return []entry{symlink("r", "../outside"), reg("r/evil", "x", 0o644)}
			},
			wantErr: ErrUnsafeLayerPath,
			wantMsg: []string{"layer entry r/evil:", "symlink r"},
		},
		{
			name: "relative symlink two levels up then entry through it",
			entries: func(l hostileLayout) []entry {
				return []entry{
					symlink("x", "../.."),
					reg("x/"+filepath.Base(l.base)+"/outside/evil", "x", 0o644),
				}
			},
			wantErr: ErrUnsafeLayerPath,
			wantMsg: []string{"/outside/evil:", "symlink x"},
		},
		{
			name: "symlink deeper in the parent path",
			entries: func(l hostileLayout) []entry {
				return []entry{dir("d/", 0o755), symlink("d/s", l.outside), dir("d/s/sub/", 0o755)}
			},
			wantErr: ErrUnsafeLayerPath,
			wantMsg: []string{"layer entry d/s/sub/:", "symlink d/s"},
		},
		{
			name: "symlink entry through a symlink",
			entries: func(l hostileLayout) []entry {
				return []entry{symlink("s", l.outside), symlink("s/link", "/etc/shadow")}
			},
			wantErr: ErrUnsafeLayerPath,
			wantMsg: []string{"layer entry s/link:", "symlink s"},
		},
		{
			name: "symlink replaced by directory after the parent was cached",
			entries: func(l hostileLayout) []entry {
				return []entry{
					dir("a/", 0o755),
					reg("a/f", "f", 0o644),
					symlink("a", l.outside),
					reg("a/evil", "x", 0o644),
				}
			},
			wantErr: ErrUnsafeLayerPath,
			wantMsg: []string{"layer entry a/evil:", "symlink a"},
		},
		{
			name: "hardlink to the sibling",
			entries: func(hostileLayout) []entry {
				return []entry{hardlink("h", "../outside/file")}
			},
			wantErr: ErrUnsafeLayerPath,
			wantMsg: []string{"layer entry h:", "hardlink target ../outside/file"},
			absent:  []string{"h"},
		},
		{
			name: "hardlink to an absolute host path",
			entries: func(l hostileLayout) []entry {
				return []entry{hardlink("h", filepath.Join(l.outside, "file"))}
			},
			wantErr: ErrLinkTargetNotFound,
			wantMsg: []string{"layer entry h:", "outside/file"},
			absent:  []string{"h"},
		},
		{
			name: "hardlink through a symlink",
			entries: func(l hostileLayout) []entry {
				return []entry{symlink("s", l.outside), hardlink("h", "s/file")}
			},
			wantErr: ErrUnsafeLayerPath,
			wantMsg: []string{"layer entry h:", "hardlink target s/file", "symlink s"},
			absent:  []string{"h"},
		},
		{
			name: "hardlink to a nonexistent target",
			entries: func(hostileLayout) []entry {
				return []entry{hardlink("sub/h", "nope")}
			},
			wantErr: ErrLinkTargetNotFound,
			wantMsg: []string{"layer entry sub/h:", "nope"},
			absent:  []string{"sub"},
		},
		{
			name: "hardlink to a target in a missing directory",
			entries: func(hostileLayout) []entry {
				return []entry{hardlink("h", "missing/file")}
			},
			wantErr: ErrLinkTargetNotFound,
			wantMsg: []string{"layer entry h:", "missing/file"},
			absent:  []string{"missing"},
		},
		{
			name: "whiteout through a symlink",
			entries: func(l hostileLayout) []entry {
				return []entry{symlink("s", l.outside), reg("s/.wh.newname", "", 0o644)}
			},
			wantErr: ErrUnsafeLayerPath,
			wantMsg: []string{"layer entry s/.wh.newname:", "symlink s"},
		},
		{
			name: "opaque marker through a symlink",
			entries: func(l hostileLayout) []entry {
				return []entry{symlink("s", l.outside), reg("s/.wh..wh..opq", "", 0o644)}
			},
			wantErr: ErrUnsafeLayerPath,
			wantMsg: []string{"layer entry s/.wh..wh..opq:", "symlink s"},
		},
		{
			name: "whiteout with dotdot name",
			entries: func(hostileLayout) []entry {
				return []entry{reg("../outside/.wh.file", "", 0o644)}
			},
			wantErr: ErrUnsafeLayerPath,
			wantMsg: []string{"layer entry ../outside/.wh.file:"},
		},
		{
			name: "whiteout of the parent directory",
			entries: func(hostileLayout) []entry {
				return []entry{reg("d/.wh...", "", 0o644)}
			},
			wantErr: ErrUnsafeLayerPath,
			wantMsg: []string{"layer entry d/.wh...:"},
			absent:  []string{"d"},
		},
		{
			name: "overlay redirect xattr on a directory",
			entries: func(hostileLayout) []entry {
				return []entry{withXattrs(dir("d/", 0o755), "trusted.overlay.redirect", "/etc")}
			},
			wantErr: ErrOverlayXattr,
			wantMsg: []string{"layer entry d/:", "trusted.overlay.redirect"},
			absent:  []string{"d"},
		},
		{
			name: "overlay metacopy user xattr on a file",
			entries: func(hostileLayout) []entry {
				return []entry{withXattrs(reg("f", "f", 0o644), "user.overlay.metacopy", "")}
			},
			opts:    ApplyOptions{UserXattr: true},
			wantErr: ErrOverlayXattr,
			wantMsg: []string{"layer entry f:", "user.overlay.metacopy"},
			absent:  []string{"f"},
		},
		{
			name: "overlay opaque xattr on a directory",
			entries: func(hostileLayout) []entry {
				return []entry{withXattrs(dir("d/", 0o755), "user.overlay.opaque", "y")}
			},
			wantErr: ErrOverlayXattr,
			wantMsg: []string{"layer entry d/:", "user.overlay.opaque"},
			absent:  []string{"d"},
		},
		{
			name: "owner uid outside the mapped range",
			entries: func(hostileLayout) []entry {
				return []entry{owned(reg("etc/shadow", "x", 0o640), 70000, 0)}
			},
			opts:    ApplyOptions{UIDs: mapped, GIDs: mapped},
			wantErr: ErrOwnerNotMapped,
			wantMsg: []string{"layer entry etc/shadow: owner uid 70000 is outside the mapped range 0-65535"},
			absent:  []string{"etc"},
		},
		{
			name: "owner gid outside the mapped range",
			entries: func(hostileLayout) []entry {
				return []entry{owned(dir("home/", 0o755), 0, 65536)}
			},
			opts:    ApplyOptions{UIDs: mapped, GIDs: mapped},
			wantErr: ErrOwnerNotMapped,
			wantMsg: []string{"layer entry home/: owner gid 65536 is outside the mapped range 0-65535"},
			absent:  []string{"home"},
		},
		{
			name: "layer root replaced by a symlink",
			entries: func(l hostileLayout) []entry {
				return []entry{symlink("./", l.outside)}
			},
			wantErr: ErrUnsupportedEntry,
			wantMsg: []string{"layer entry ./:", "must be a directory"},
		},
		{
			name: "hardlink to itself",
			entries: func(hostileLayout) []entry {
				return []entry{reg("f", "f", 0o644), hardlink("f", "./f")}
			},
			wantErr: ErrUnsupportedEntry,
			wantMsg: []string{"layer entry f:"},
		},
		{
			name: "hardlink to a directory",
			entries: func(hostileLayout) []entry {
				return []entry{dir("d/", 0o755), hardlink("h", "d")}
			},
			wantErr: ErrUnsupportedEntry,
			wantMsg: []string{"layer entry h:", "directory"},
			absent:  []string{"h"},
		},
		{
			name: "unknown entry type",
			entries: func(hostileLayout) []entry {
				return []entry{{Header: tar.Header{Typeflag: 'Z', Name: "z", Mode: 0o644}}}
			},
			wantErr: ErrUnsupportedEntry,
			wantMsg: []string{"layer entry z:", `'Z'`},
			absent:  []string{"z"},
		},
		{
			name: "control characters in a name are quoted",
			entries: func(hostileLayout) []entry {
				return []entry{reg("../x\nlayer entry ok", "x", 0o644)}
			},
			wantErr: ErrUnsafeLayerPath,
			wantMsg: []string{`layer entry "../x\nlayer entry ok":`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newHostileLayout(t)
			before := snapshot(t, l.base, "layer")

			_, err := applyTar(l.layer, buildTar(t, tt.entries(l)...), tt.opts)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want one matching %v", err, tt.wantErr)
			}
			for _, s := range tt.wantMsg {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if diff := cmp.Diff(before, snapshot(t, l.base, "layer")); diff != "" {
				t.Errorf("files outside the layer changed (-before +after):\n%s", diff)
			}
			for _, name := range tt.absent {
				if _, err := os.Lstat(filepath.Join(l.layer, name)); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s exists in the layer (Lstat error %v), want it never created", name, err)
				}
			}
		})
	}
}

func TestApplyLayerDiffID(t *testing.T) {
	requireRoot(t)
	data := buildTar(t, reg("f", "content", 0o644))
	tests := []struct {
		name    string
		trailer []byte
	}{
		{name: "as written", trailer: nil},
		// GNU tar pads the archive to a multiple of 10240 bytes.
		{name: "record padding", trailer: make([]byte, 10240-len(data)%10240)},
		{name: "data after the end blocks", trailer: []byte("trailing bytes that are not tar")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stream := append(append([]byte(nil), data...), tt.trailer...)
			got, err := applyTar(newLayerDir(t), stream, ApplyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(stream)
			want := ApplyResult{DiffID: "sha256:" + hex.EncodeToString(sum[:]), Size: int64(len(stream))}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
		})
	}
}

func TestApplyLayerTruncated(t *testing.T) {
	requireRoot(t)
	data := buildTar(t, reg("f", strings.Repeat("x", 4096), 0o644))
	_, err := applyTar(newLayerDir(t), data[:1024], ApplyOptions{})
	if err == nil || !strings.Contains(err.Error(), "read layer tar") {
		t.Errorf("error = %v, want a read layer tar error", err)
	}
}

func TestApplyLayerCanceled(t *testing.T) {
	requireRoot(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	layer := newLayerDir(t)
	_, err := ApplyLayer(ctx, layer, bytes.NewReader(buildTar(t, reg("f", "f", 0o644))), ApplyOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if got := snapshot(t, layer, ""); len(got) != 0 {
		t.Errorf("layer has %v, want it empty", got)
	}
}

func TestApplyLayerDirectoryChecks(t *testing.T) {
	requireRoot(t)
	notEmpty := newLayerDir(t)
	if err := os.WriteFile(filepath.Join(notEmpty, "old"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		dir     string
		opts    ApplyOptions
		wantErr error
	}{
		{name: "not empty", dir: notEmpty, wantErr: ErrLayerDirNotEmpty},
		{name: "missing", dir: filepath.Join(t.TempDir(), "missing"), wantErr: fs.ErrNotExist},
		{
			name:    "invalid uid map",
			dir:     newLayerDir(t),
			opts:    ApplyOptions{UIDs: []userns.IDMap{{ContainerID: 0, HostID: 100000, Size: 0}}},
			wantErr: ErrInvalidIDMap,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := applyTar(tt.dir, buildTar(t, reg("f", "f", 0o644)), tt.opts)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("error = %v, want one matching %v", err, tt.wantErr)
			}
		})
	}
}

// openFDs returns the number of open descriptors of this process.
func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

func TestApplyLayerClosesDescriptors(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		name    string
		entries []entry
		wantErr bool
	}{
		{
			name: "success",
			entries: []entry{
				reg("a/b/f", "f", 0o644), reg("c/f", "f", 0o644), hardlink("c/h", "a/b/f"),
				dir("d/e/", 0o755), reg("d/e/f", "f", 0o644), reg("d", "replaces the tree", 0o644),
			},
		},
		{
			name:    "failure in a nested directory",
			entries: []entry{reg("a/b/f", "f", 0o644), symlink("a/b/s", "/"), reg("a/b/s/evil", "x", 0o644)},
			wantErr: true,
		},
		{
			name:    "failure on a hardlink",
			entries: []entry{reg("a/b/f", "f", 0o644), hardlink("c/h", "a/b/missing")},
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := buildTar(t, tt.entries...)
			layer := newLayerDir(t)
			before := openFDs(t)
			_, err := applyTar(layer, data, ApplyOptions{})
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, want error: %v", err, tt.wantErr)
			}
			if after := openFDs(t); after != before {
				t.Errorf("open descriptors: %d before, %d after", before, after)
			}
		})
	}
}

// userNSLayer returns the layer that TestApplyLayerUserNamespace applies
// and the expected tree on the host, with owners shifted by subIDBase.
func userNSLayer() ([]entry, map[string]node) {
	host := func(n node, uid, gid uint32) node { return ownedNode(n, subIDBase+uid, subIDBase+gid) }
	entries := []entry{
		dir("etc/", 0o755),
		reg("etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0o644),
		reg("etc/.wh.motd", "", 0o644),
		owned(reg("home/user/data", "mine", 0o600), 1000, 1000),
		owned(reg("usr/bin/su", "su", 0o4755), 0, 0),
		owned(reg("usr/bin/wall", "wall", 0o2755), 0, 5),
		withXattrs(reg("bin/ping", "ping", 0o755),
			"security.capability", capV2(capNetRaw),
			"trusted.note", "dropped",
			"user.comment", "kept"),
		symlink("bin/sh", "busybox"),
		dir("var/cache/", 0o755),
		reg("var/cache/.wh..wh..opq", "", 0o644),
		device(tar.TypeChar, "dev/null", 1, 3, 0o666),
		device(tar.TypeBlock, "dev/sda", 8, 0, 0o660),
		device(tar.TypeFifo, "run/fifo", 0, 0, 0o600),
		owned(dir("tmp/", 0o1777), 65534, 65534),
	}
	want := map[string]node{
		"etc":            host(dirNode(0o755), 0, 0),
		"etc/passwd":     host(fileNode("root:x:0:0::/root:/bin/sh\n", 0o644), 0, 0),
		"etc/motd":       host(whiteoutNode, 0, 0),
		"home":           host(dirNode(0o755), 0, 0),
		"home/user":      host(dirNode(0o755), 0, 0),
		"home/user/data": host(fileNode("mine", 0o600), 1000, 1000),
		"usr":            host(dirNode(0o755), 0, 0),
		"usr/bin":        host(dirNode(0o755), 0, 0),
		"usr/bin/su":     host(fileNode("su", 0o4755), 0, 0),
		"usr/bin/wall":   host(fileNode("wall", 0o2755), 0, 5),
		"bin":            host(dirNode(0o755), 0, 0),
		"bin/ping": host(xattrNode(fileNode("ping", 0o755),
			"security.capability", capV3(capNetRaw, subIDBase),
			"user.comment", "kept"), 0, 0),
		"bin/sh":    host(linkNode("busybox"), 0, 0),
		"var":       host(dirNode(0o755), 0, 0),
		"var/cache": host(xattrNode(dirNode(0o755), "user.overlay.opaque", "y"), 0, 0),
		"dev":       host(dirNode(0o755), 0, 0),
		"run":       host(dirNode(0o755), 0, 0),
		"run/fifo":  host(node{Type: "fifo", Mode: 0o600}, 0, 0),
		"tmp":       host(dirNode(0o1777), 65534, 65534),
	}
	return entries, want
}

// applyInUserNS runs ApplyLayer in the test binary re-executed as root of
// a new user namespace that maps container ids 0-65535 to host ids
// subIDBase and up. It returns the child's stdout and stderr and its
// error.
func applyInUserNS(t *testing.T, layer string, data []byte) (stdout, stderr string, err error) {
	t.Helper()
	requireRoot(t)
	requireUserNS(t)
	// The layer directory must belong to an id mapped in the namespace,
	// as the layer store's directories do when the store runs there.
	if err := os.Chown(layer, subIDBase, subIDBase); err != nil {
		t.Fatal(err)
	}
	// The child reaches the layer directory through this descriptor
	// (fd 3), because the test's temporary directories are mode 0700 and
	// belong to host root, whom the namespace does not map.
	dirFile, err := os.Open(layer)
	if err != nil {
		t.Fatal(err)
	}
	defer dirFile.Close()

	idMap := []syscall.SysProcIDMap{{ContainerID: 0, HostID: subIDBase, Size: subIDCount}}
	// /proc/self/exe is resolved without searching the 0700 build
	// directory, which the child's uid could not enter.
	cmd := exec.Command("/proc/self/exe")
	cmd.Env = append(os.Environ(), roleEnv+"="+roleApplyUserNS)
	cmd.Stdin = bytes.NewReader(data)
	cmd.ExtraFiles = []*os.File{dirFile}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: idMap,
		GidMappings: idMap,
		// setgroups(2) clears root's supplementary groups in the child,
		// which the namespace does not map.
		GidMappingsEnableSetgroups: true,
		// The child switches to uid 0 of the namespace before exec, so
		// it keeps its capabilities there. Host root is not mapped, and
		// an unmapped user loses them at exec.
		Credential: &syscall.Credential{Uid: 0, Gid: 0},
		Pdeathsig:  syscall.SIGKILL,
	}
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

func TestApplyLayerUserNamespace(t *testing.T) {
	entries, want := userNSLayer()
	layer := newLayerDir(t)
	stdout, stderr, err := applyInUserNS(t, layer, buildTar(t, entries...))
	if err != nil {
		t.Fatalf("apply in user namespace: %v\nstderr:\n%s", err, stderr)
	}

	var res ApplyResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("decode result %q: %v", stdout, err)
	}
	if res.SkippedDevices != 2 {
		t.Errorf("SkippedDevices = %d, want 2 (dev/null and dev/sda)", res.SkippedDevices)
	}
	warnings := strings.Count(stderr, "level=WARN")
	if warnings != 1 {
		t.Errorf("child logged %d warnings, want 1 for all skipped devices:\n%s", warnings, stderr)
	}
	if !strings.Contains(stderr, "count=2") {
		t.Errorf("warning does not state count=2:\n%s", stderr)
	}
	if diff := cmp.Diff(want, snapshot(t, layer, ""), ignoreLinkCountAndTime); diff != "" {
		t.Errorf("layer tree seen from the host (-want +got):\n%s", diff)
	}
}

func TestApplyLayerUserNamespaceUnmappedOwner(t *testing.T) {
	layer := newLayerDir(t)
	data := buildTar(t, reg("etc/passwd", "p", 0o644), owned(reg("etc/shadow", "s", 0o640), 70000, 0))
	_, stderr, err := applyInUserNS(t, layer, data)
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
		t.Fatalf("child error = %v, want exit status 1\nstderr:\n%s", err, stderr)
	}
	want := "layer entry etc/shadow: owner uid 70000 is outside the mapped range 0-65535"
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr does not contain %q:\n%s", want, stderr)
	}
	if _, err := os.Lstat(filepath.Join(layer, "etc/shadow")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("etc/shadow exists (Lstat error %v), want it never created", err)
	}
}

// benchmarkLayer returns a layer of 50 directories with 100 small files
// each, 5000 files from 1 to 4 KiB.
func benchmarkLayer(b *testing.B) []byte {
	b.Helper()
	var entries []entry
	for d := range 50 {
		dirName := "usr/share/pkg" + strconv.Itoa(d) + "/"
		entries = append(entries, dir(dirName, 0o755))
		for f := range 100 {
			body := strings.Repeat("x", 1024+(d*100+f)%3072)
			entries = append(entries, reg(dirName+"file"+strconv.Itoa(f), body, 0o644))
		}
	}
	return buildTar(b, entries...)
}

func BenchmarkApplyLayer(b *testing.B) {
	requireRoot(b)
	data := benchmarkLayer(b)
	base := b.TempDir()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		layer := filepath.Join(base, strconv.Itoa(i))
		if err := os.Mkdir(layer, 0o755); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := ApplyLayer(context.Background(), layer, bytes.NewReader(data), ApplyOptions{}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := os.RemoveAll(layer); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
