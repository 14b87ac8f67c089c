package image

import (
	"errors"
	"path"
	"strings"
	"testing"

	"github.com/gocker/gocker/userns"
)

func TestCleanEntryName(t *testing.T) {
	tests := []struct {
		name, want string
		wantErr    bool
	}{
		{name: "etc/passwd", want: "etc/passwd"},
		{name: "./etc/passwd", want: "etc/passwd"},
		{name: "/etc/passwd", want: "etc/passwd"},
		{name: "//etc//passwd", want: "etc/passwd"},
		{name: "etc/", want: "etc"},
		{name: "a/b/../c", want: "a/c"},
		{name: "a/..", want: "."},
		{name: ".", want: "."},
		{name: "./", want: "."},
		{name: "/", want: "."},
		{name: "", want: "."},
		{name: "/../x", wantErr: true},
		{name: "..", wantErr: true},
		{name: "../x", wantErr: true},
		{name: "a/../../x", wantErr: true},
		{name: "./../x", wantErr: true},
		{name: "a\x00b", wantErr: true},
		{name: "..x", want: "..x"},
		{name: "x..", want: "x.."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cleanEntryName(tt.name)
			if tt.wantErr {
				if !errors.Is(err, ErrUnsafeLayerPath) {
					t.Fatalf("cleanEntryName(%q) = %q, %v, want ErrUnsafeLayerPath", tt.name, got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("cleanEntryName(%q) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

func FuzzCleanEntryName(f *testing.F) {
	for _, seed := range []string{"etc/passwd", "/abs", "../x", "a/../../x", "./a/./b/", "//", "a/.."} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got, err := cleanEntryName(name)
		if err != nil {
			if !errors.Is(err, ErrUnsafeLayerPath) {
				t.Fatalf("cleanEntryName(%q) error %v does not match ErrUnsafeLayerPath", name, err)
			}
			return
		}
		if got == "" || strings.HasPrefix(got, "/") {
			t.Fatalf("cleanEntryName(%q) = %q, want a non-empty relative name", name, got)
		}
		if got == ".." || strings.HasPrefix(got, "../") {
			t.Fatalf("cleanEntryName(%q) = %q leaves the directory", name, got)
		}
		if path.Clean(got) != got {
			t.Fatalf("cleanEntryName(%q) = %q is not clean", name, got)
		}
		if strings.IndexByte(got, 0) >= 0 {
			t.Fatalf("cleanEntryName(%q) = %q contains NUL", name, got)
		}
		if joined := path.Join("/layer", got); joined != "/layer" && !strings.HasPrefix(joined, "/layer/") {
			t.Fatalf("cleanEntryName(%q) = %q joins to %q, outside /layer", name, got, joined)
		}
	})
}

func TestSplitEntryName(t *testing.T) {
	tests := []struct{ name, dir, base string }{
		{name: "file", dir: "", base: "file"},
		{name: "a/file", dir: "a", base: "file"},
		{name: "a/b/c", dir: "a/b", base: "c"},
	}
	for _, tt := range tests {
		dir, base := splitEntryName(tt.name)
		if dir != tt.dir || base != tt.base {
			t.Errorf("splitEntryName(%q) = %q, %q, want %q, %q", tt.name, dir, base, tt.dir, tt.base)
		}
	}
}

func TestParseWhiteout(t *testing.T) {
	tests := []struct {
		base       string
		wantKind   whiteoutKind
		wantTarget string
		wantErr    bool
	}{
		{base: "file", wantKind: notWhiteout},
		{base: ".whfile", wantKind: notWhiteout},
		{base: ".wh.file", wantKind: whiteoutFile, wantTarget: "file"},
		{base: ".wh..hidden", wantKind: whiteoutFile, wantTarget: ".hidden"},
		{base: ".wh..wh..opq", wantKind: whiteoutOpaque},
		{base: ".wh..wh.plnk", wantKind: whiteoutMeta},
		{base: ".wh.", wantErr: true},
		{base: ".wh..", wantErr: true},
		{base: ".wh...", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.base, func(t *testing.T) {
			kind, target, err := parseWhiteout(tt.base)
			if tt.wantErr {
				if !errors.Is(err, ErrUnsafeLayerPath) {
					t.Fatalf("parseWhiteout(%q) error = %v, want ErrUnsafeLayerPath", tt.base, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if kind != tt.wantKind || target != tt.wantTarget {
				t.Errorf("parseWhiteout(%q) = %v, %q, want %v, %q", tt.base, kind, target, tt.wantKind, tt.wantTarget)
			}
		})
	}
}

func TestXattrPolicy(t *testing.T) {
	tests := []struct {
		name           string
		root, rootless xattrAction
	}{
		{name: "security.capability", root: xattrApply, rootless: xattrApply},
		{name: "user.comment", root: xattrApply, rootless: xattrApply},
		{name: "trusted.note", root: xattrApply, rootless: xattrDrop},
		{name: "trusted.overlay.opaque", root: xattrReject, rootless: xattrReject},
		{name: "trusted.overlay.redirect", root: xattrReject, rootless: xattrReject},
		{name: "user.overlay.metacopy", root: xattrReject, rootless: xattrReject},
		{name: "user.overlay.opaque", root: xattrReject, rootless: xattrReject},
		{name: "security.selinux", root: xattrDrop, rootless: xattrDrop},
		{name: "system.posix_acl_access", root: xattrDrop, rootless: xattrDrop},
		{name: "security.capabilityx", root: xattrDrop, rootless: xattrDrop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := xattrPolicy(tt.name, false); got != tt.root {
				t.Errorf("as root: %v, want %v", got, tt.root)
			}
			if got := xattrPolicy(tt.name, true); got != tt.rootless {
				t.Errorf("rootless: %v, want %v", got, tt.rootless)
			}
		})
	}
}

func TestCheckOwnerID(t *testing.T) {
	maps := []userns.IDMap{{ContainerID: 0, HostID: 1000, Size: 1}, {ContainerID: 1, HostID: 100000, Size: 65536}}
	ranges := describeRanges(maps)
	if want := "0-0, 1-65536"; ranges != want {
		t.Errorf("describeRanges = %q, want %q", ranges, want)
	}
	tests := []struct {
		name    string
		id      int
		maps    []userns.IDMap
		wantErr string
	}{
		{name: "root in maps", id: 0, maps: maps},
		{name: "last mapped id", id: 65536, maps: maps},
		{name: "first unmapped id", id: 65537, maps: maps, wantErr: "owner uid 65537 is outside the mapped range 0-0, 1-65536"},
		{name: "any id without maps", id: 4294967294},
		{name: "minus one without maps", id: 4294967295, wantErr: "owner uid 4294967295 is not a valid id"},
		{name: "negative", id: -1, maps: maps, wantErr: "owner uid -1 is not a valid id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkOwnerID("uid", tt.id, tt.maps, describeRanges(tt.maps))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrOwnerNotMapped) {
				t.Fatalf("error = %v, want ErrOwnerNotMapped", err)
			}
			if err.Error() != tt.wantErr {
				t.Errorf("message = %q, want %q", err.Error(), tt.wantErr)
			}
		})
	}
}

func TestValidateIDMaps(t *testing.T) {
	tests := []struct {
		name    string
		maps    []userns.IDMap
		wantErr bool
	}{
		{name: "none", maps: nil},
		{name: "subordinate range", maps: []userns.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}},
		{name: "all 32-bit ids", maps: []userns.IDMap{{ContainerID: 0, HostID: 0, Size: 4294967295}}},
		{name: "zero size", maps: []userns.IDMap{{ContainerID: 0, HostID: 100000, Size: 0}}, wantErr: true},
		{name: "negative container id", maps: []userns.IDMap{{ContainerID: -1, HostID: 0, Size: 1}}, wantErr: true},
		{name: "beyond 32 bits", maps: []userns.IDMap{{ContainerID: 4294967295, HostID: 0, Size: 1}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validateIDMaps("uid", tt.maps)
			if tt.wantErr != errors.Is(err, ErrInvalidIDMap) {
				t.Errorf("validateIDMaps error = %v, want error: %v", err, tt.wantErr)
			}
		})
	}
}
