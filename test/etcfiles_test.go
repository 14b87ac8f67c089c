//go:build integration

package test

import (
	"archive/tar"
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// busyboxTar returns the busybox root filesystem at rootfs as a tar, with
// every entry owned by root. For each header, edit returns the headers to
// write in its place.
func busyboxTar(t *testing.T, rootfs string, edit func(*tar.Header) []*tar.Header) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.WalkDir(rootfs, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == rootfs {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if d.Type()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(path); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(rootfs, path)
		hdr.Name = rel
		if d.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		for _, h := range edit(hdr) {
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			if h.Typeflag == tar.TypeReg && h.Size > 0 {
				f, err := os.Open(path)
				if err != nil {
					return err
				}
				_, err = io.Copy(tw, f)
				f.Close()
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err == nil {
		err = tw.Close()
	}
	if err != nil {
		t.Fatalf("tar the busybox root filesystem: %v", err)
	}
	return buf.String()
}

func TestEtcFilesKeepImageEtc(t *testing.T) {
	g := newRootless(t)
	rootfs := g.busyboxRootfs(t)
	stamp := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)

	// An /etc with its own group, mode and time.
	owned := busyboxTar(t, rootfs, func(h *tar.Header) []*tar.Header {
		if h.Name == "etc/" {
			h.Gid, h.Mode, h.ModTime = 10, 0o750, stamp
		}
		return []*tar.Header{h}
	})
	if res := g.tryInput(owned, "import", "-", "etcowner"); res.code != 0 {
		t.Fatalf("import: %s", res)
	}
	out := g.ok("run", "--rm", "--pull", "never", "--network", "none", "-h", "box", "etcowner", "sh", "-c", "stat -c '%u:%g %a %Y' /etc; cat /etc/hostname")
	if want := "0:10 750 1577934245\nbox\n"; out != want {
		t.Errorf("/etc and /etc/hostname = %q, want the image's owner, mode and time, and the host name: %q", out, want)
	}

	// An /etc that is a symlink to usr/etc.
	linked := busyboxTar(t, rootfs, func(h *tar.Header) []*tar.Header {
		switch {
		case h.Name == "etc/":
			return []*tar.Header{{Name: "etc", Typeflag: tar.TypeSymlink, Linkname: "usr/etc", Mode: 0o777, ModTime: stamp}, {Name: "usr/etc/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: stamp}}
		case strings.HasPrefix(h.Name, "etc/"):
			h.Name = "usr/" + h.Name
		}
		return []*tar.Header{h}
	})
	if res := g.tryInput(linked, "import", "-", "etclink"); res.code != 0 {
		t.Fatalf("import: %s", res)
	}
	out = g.ok("run", "--rm", "--pull", "never", "--network", "none", "-h", "box", "etclink", "sh", "-c", "readlink /etc; id -u app; grep -c box /etc/hosts")
	if want := "usr/etc\n1000\n1\n"; out != want {
		t.Errorf("in an image whose /etc is a symlink: %q, want the symlink, the image's users and the generated hosts file: %q", out, want)
	}
}

func TestEtcFilesMounts(t *testing.T) {
	g := newRootless(t)
	g.busybox(t)

	// The user's bind mount wins over the generated file.
	dir, err := os.MkdirTemp(env.workDir, "hosts-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	hosts := filepath.Join(dir, "hosts")
	if err := os.WriteFile(hosts, []byte("10.9.9.9 mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out := g.ok("run", "--rm", "--pull", "never", "--network", "none", "-v", hosts+":/etc/hosts:ro", "busybox", "cat", "/etc/hosts")
	if out != "10.9.9.9 mine\n" {
		t.Errorf("/etc/hosts with -v FILE:/etc/hosts = %q, want the file's content", out)
	}

	// Writable, with one link, unless the root filesystem is read-only.
	script := "echo 10.1.1.1 extra >> /etc/hosts && tail -1 /etc/hosts; stat -c %h /etc/hosts"
	out = g.ok("run", "--rm", "--pull", "never", "--network", "none", "busybox", "sh", "-c", script)
	if out != "10.1.1.1 extra\n1\n" {
		t.Errorf("append to /etc/hosts = %q, want the new line and one link", out)
	}
	for _, path := range []string{"/etc/hosts", "/etc/hostname", "/etc/resolv.conf"} {
		res := g.try("run", "--rm", "--pull", "never", "--network", "none", "--read-only", "busybox", "sh", "-c", "echo x >> "+path)
		if res.code == 0 || !strings.Contains(res.stderr, "Read-only file system") {
			t.Errorf("append to %s with --read-only: %s, want a read-only file system", path, res)
		}
	}

	// inspect lists the layer of mount points below the image's.
	g.ok("run", "--name", "c", "--pull", "never", "--network", "none", "busybox", "true")
	lower := strings.Split(strings.TrimSpace(g.ok("inspect", "-f", "{{.GraphDriver.Data.LowerDir}}", "c")), ":")
	bottom := lower[len(lower)-1]
	if !strings.HasPrefix(filepath.Base(bottom), "mountpoints-") {
		t.Fatalf("LowerDir %q does not end with the mount point layer", lower)
	}
	if _, err := os.Stat(filepath.Join(bottom, "etc", "resolv.conf")); err != nil {
		t.Errorf("mount point layer: %v", err)
	}
}
