package image

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/gocker/gocker/userns"
	"golang.org/x/sys/unix"
)

// Init makes an image of one layer from the directory dir, as Bocker's init
// did. The files' owners are translated into the container's ids: the
// calling user's files become root's, files owned by its subordinate ids
// become the ids they stand for, and any other owner is an error.
func (s *Store) Init(ctx context.Context, dir string, ref Reference, opts ImportOptions) (*Image, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory: give the directory that becomes the image's root", dir)
	}
	owners, err := newOwnerMap()
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(writeDirTar(ctx, pw, dir, owners))
	}()
	defer pr.Close()
	return s.importLayer(ctx, layerSource{r: pr, compress: true}, ref, opts)
}

// ownerMap translates host ids to container ids.
type ownerMap struct {
	uids, gids []userns.IDMap // nil: ids are kept (root)
}

func newOwnerMap() (ownerMap, error) {
	if !userns.Rootless() {
		return ownerMap{}, nil
	}
	m, err := userns.LoadMapping()
	if err != nil {
		return ownerMap{}, err
	}
	return ownerMap{uids: m.UIDs, gids: m.GIDs}, nil
}

func (o ownerMap) translate(path string, hdr *tar.Header) error {
	if o.uids == nil {
		return nil
	}
	uid, ok1 := userns.ToContainer(o.uids, int64(hdr.Uid))
	gid, ok2 := userns.ToContainer(o.gids, int64(hdr.Gid))
	if !ok1 || !ok2 {
		return fmt.Errorf("%s is owned by %d:%d on the host, which is neither you nor one of your subordinate ids, so a rootless image cannot keep that owner: init a copy that you own (cp -r as your user), or run gocker init as root", path, hdr.Uid, hdr.Gid)
	}
	hdr.Uid, hdr.Gid = int(uid), int(gid)
	return nil
}

// writeDirTar writes dir as a tar stream in lexical order, with hard links
// kept and the security.capability xattr carried over.
func writeDirTar(ctx context.Context, w io.Writer, dir string, owners ownerMap) error {
	tw := tar.NewWriter(w)
	links := map[[2]uint64]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		return writeDirEntry(tw, path, rel, owners, links)
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

func writeDirEntry(tw *tar.Writer, path, rel string, owners ownerMap, links map[[2]uint64]string) error {
	info, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if info.Mode()&fs.ModeSocket != 0 {
		return nil // sockets cannot be stored in a tar
	}
	link := ""
	if info.Mode()&fs.ModeSymlink != 0 {
		if link, err = os.Readlink(path); err != nil {
			return err
		}
	}
	hdr, err := tar.FileInfoHeader(info, link)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	hdr.Name = filepath.ToSlash(rel)
	if info.IsDir() {
		hdr.Name += "/"
	}
	hdr.Uname, hdr.Gname = "", ""
	if err := owners.translate(path, hdr); err != nil {
		return err
	}
	st := info.Sys().(*syscall.Stat_t)
	if info.Mode().IsRegular() && st.Nlink > 1 {
		key := [2]uint64{st.Dev, st.Ino}
		if first, ok := links[key]; ok {
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
			return tw.WriteHeader(hdr)
		}
		links[key] = hdr.Name
	}
	addCapability(path, hdr)
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return nil
	}
	return copyFile(tw, path)
}

func addCapability(path string, hdr *tar.Header) {
	buf := make([]byte, 256)
	n, err := unix.Lgetxattr(path, "security.capability", buf)
	if err != nil || n <= 0 {
		return
	}
	if hdr.PAXRecords == nil {
		hdr.PAXRecords = map[string]string{}
	}
	hdr.PAXRecords["SCHILY.xattr.security.capability"] = string(buf[:n])
}

func copyFile(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return fmt.Errorf("%w: make it readable for your user", err)
		}
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}
