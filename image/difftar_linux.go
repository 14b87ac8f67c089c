package image

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gocker/gocker/overlay"
	"github.com/gocker/gocker/userns"
	"golang.org/x/sys/unix"
)

const diffHelper = "write-diff"

// diffArgument is what the diff helper receives.
type diffArgument struct {
	Dir string `json:"dir"`
	// Exclude are paths relative to Dir ("etc/hosts") left out of the
	// layer with everything below them.
	Exclude []string `json:"exclude,omitempty"`
}

func init() {
	userns.RegisterStreamHelper(diffHelper, userns.HelperOptions{}, func(ctx context.Context, raw json.RawMessage, _ io.Reader, stdout io.Writer) (any, error) {
		var arg diffArgument
		if err := json.Unmarshal(raw, &arg); err != nil {
			return nil, err
		}
		return nil, WriteDiff(ctx, stdout, arg.Dir, arg.Exclude)
	})
}

// writeDiffAsRoot runs [WriteDiff] as root in the user namespace (or in
// gocker itself, for root), where every file of dir is readable and its
// owners are the container's ids.
func writeDiffAsRoot(ctx context.Context, w io.Writer, dir string, exclude []string) error {
	return userns.RunStreamHelper(ctx, diffHelper, diffArgument{Dir: dir, Exclude: exclude}, nil, w, nil)
}

// WriteDiff writes the overlay upper directory dir as an OCI layer tar:
// entries in lexical order with owners, modes, times, hardlinks and the
// security.capability and user.* xattrs; overlay whiteouts (0/0 character
// devices) become .wh.NAME entries and opaque directories get a
// .wh..wh..opq entry. The same tree always gives the same bytes. Sockets
// are left out, since tar cannot hold them.
func WriteDiff(ctx context.Context, w io.Writer, dir string, exclude []string) error {
	tw := tar.NewWriter(w)
	links := map[[2]uint64]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if slices.Contains(exclude, rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		return writeDiffEntry(tw, p, rel, links)
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

func writeDiffEntry(tw *tar.Writer, p, rel string, links map[[2]uint64]string) error {
	info, err := os.Lstat(p)
	if err != nil {
		return err
	}
	if overlay.IsWhiteout(info) {
		dir, base := path.Split(rel)
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: dir + overlay.WhiteoutPrefix + base, Mode: 0o644, ModTime: info.ModTime().Truncate(time.Second), Format: tar.FormatPAX})
	}
	if info.Mode()&fs.ModeSocket != 0 {
		return nil
	}
	hdr, err := diffHeader(p, rel, info)
	if err != nil {
		return err
	}
	st := info.Sys().(*syscall.Stat_t)
	if hdr.Typeflag == tar.TypeReg && st.Nlink > 1 {
		key := [2]uint64{st.Dev, st.Ino}
		if first, ok := links[key]; ok {
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
			return tw.WriteHeader(hdr)
		}
		links[key] = hdr.Name
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if info.IsDir() {
		return writeOpaqueMarker(tw, p, hdr)
	}
	if hdr.Typeflag == tar.TypeReg {
		return copyFile(tw, p)
	}
	return nil
}

// diffHeader builds the tar header of a file, with numeric owners only,
// so that the result depends on nothing but the tree.
func diffHeader(p, rel string, info fs.FileInfo) (*tar.Header, error) {
	st := info.Sys().(*syscall.Stat_t)
	hdr := &tar.Header{
		Name:    rel,
		Mode:    int64(st.Mode & 0o7777),
		Uid:     int(st.Uid),
		Gid:     int(st.Gid),
		ModTime: info.ModTime().Truncate(time.Second),
		Format:  tar.FormatPAX,
	}
	switch info.Mode().Type() {
	case 0:
		hdr.Typeflag, hdr.Size = tar.TypeReg, info.Size()
	case fs.ModeDir:
		hdr.Typeflag, hdr.Name = tar.TypeDir, rel+"/"
	case fs.ModeSymlink:
		target, err := os.Readlink(p)
		if err != nil {
			return nil, err
		}
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, target
	case fs.ModeNamedPipe:
		hdr.Typeflag = tar.TypeFifo
	case fs.ModeDevice | fs.ModeCharDevice:
		hdr.Typeflag = tar.TypeChar
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
	case fs.ModeDevice:
		hdr.Typeflag = tar.TypeBlock
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
	default:
		return nil, fmt.Errorf("%s: file type %s cannot be stored in a layer", p, info.Mode().Type())
	}
	records, err := diffXattrs(p)
	if err != nil {
		return nil, err
	}
	hdr.PAXRecords = records
	return hdr, nil
}

// diffXattrs returns the xattrs a layer keeps, as PAX records:
// security.capability and user.* other than overlay's own.
func diffXattrs(p string) (map[string]string, error) {
	buf := make([]byte, 4096)
	n, err := unix.Llistxattr(p, buf)
	if err != nil {
		if errors.Is(err, unix.ENOTSUP) {
			return nil, nil
		}
		return nil, &os.PathError{Op: "llistxattr", Path: p, Err: err}
	}
	var records map[string]string
	for _, name := range strings.Split(string(buf[:n]), "\x00") {
		keep := name == "security.capability" || (strings.HasPrefix(name, "user.") && !overlay.IsOverlayXattr(name))
		if !keep {
			continue
		}
		value := make([]byte, 64<<10)
		m, err := unix.Lgetxattr(p, name, value)
		if err != nil {
			return nil, &os.PathError{Op: "lgetxattr " + name, Path: p, Err: err}
		}
		if records == nil {
			records = map[string]string{}
		}
		records[paxXattrPrefix+name] = string(value[:m])
	}
	return records, nil
}

// writeOpaqueMarker adds the .wh..wh..opq entry of an opaque directory,
// marked with either overlay xattr namespace (rootless upper directories
// use user.overlay.*, root's trusted.overlay.*).
func writeOpaqueMarker(tw *tar.Writer, p string, dirHdr *tar.Header) error {
	for _, userXattr := range []bool{true, false} {
		opaque, err := overlay.IsOpaque(p, userXattr)
		if err != nil && !errors.Is(err, unix.ENOTSUP) && !errors.Is(err, unix.EPERM) {
			return err
		}
		if opaque {
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: dirHdr.Name + overlay.WhiteoutOpaqueDir, Mode: 0o644, ModTime: dirHdr.ModTime, Format: tar.FormatPAX})
		}
	}
	return nil
}
