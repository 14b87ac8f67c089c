package image

import (
	"fmt"
	"log/slog"
	"path"
	"strconv"
	"strings"
	"unicode"

	"github.com/gocker/gocker/overlay"
	"github.com/gocker/gocker/userns"
)

// ApplyOptions configures [ApplyLayer].
type ApplyOptions struct {
	// UserXattr selects user.overlay.opaque for opaque directories, for
	// layers that an overlay mounted with userxattr reads (rootless).
	// When false, trusted.overlay.opaque is written, which needs
	// CAP_SYS_ADMIN in the initial user namespace, and trusted.* xattrs
	// from the layer are kept.
	UserXattr bool
	// UIDs and GIDs are the container-side ids allowed as file owners,
	// normally the maps of the user namespace that ApplyLayer runs in.
	// Only ContainerID and Size are read. When empty, any id from 0 to
	// 4294967294 is allowed, as for real root.
	UIDs, GIDs []userns.IDMap
	// Logger receives warnings such as skipped device nodes. Nil
	// discards them.
	Logger *slog.Logger
}

// ApplyResult describes an applied layer.
type ApplyResult struct {
	// DiffID is "sha256:<hex>" of the whole uncompressed tar stream,
	// including the bytes after the end-of-archive blocks.
	DiffID string
	// Size is the length of the uncompressed tar stream in bytes.
	Size int64
	// SkippedDevices is the number of character and block devices that
	// were not created because mknod(2) failed with EPERM, as it does in
	// a user namespace.
	SkippedDevices int
}

// maxID is the largest valid uid or gid: chown(2) reads (uid_t)-1 as "do
// not change".
const maxID = 1<<32 - 2

// validate checks the id maps and returns the descriptions of the uid and
// gid ranges that owner errors print.
func (o *ApplyOptions) validate() (uidRanges, gidRanges string, err error) {
	if err := validateIDMaps("uid", o.UIDs); err != nil {
		return "", "", err
	}
	if err := validateIDMaps("gid", o.GIDs); err != nil {
		return "", "", err
	}
	return describeRanges(o.UIDs), describeRanges(o.GIDs), nil
}

func validateIDMaps(kind string, maps []userns.IDMap) error {
	for _, m := range maps {
		if m.ContainerID < 0 || m.HostID < 0 || m.Size < 1 ||
			m.ContainerID > maxID+1-m.Size || m.HostID > maxID+1-m.Size {
			return fmt.Errorf("%w: %s map container id %d, host id %d, size %d",
				ErrInvalidIDMap, kind, m.ContainerID, m.HostID, m.Size)
		}
	}
	return nil
}

// describeRanges formats the container-side ranges of maps as inclusive
// ranges, such as "0-65535" or "0-0, 1-65535".
func describeRanges(maps []userns.IDMap) string {
	if len(maps) == 0 {
		return "0-" + strconv.Itoa(maxID)
	}
	var b strings.Builder
	for i, m := range maps {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d-%d", m.ContainerID, m.ContainerID+m.Size-1)
	}
	return b.String()
}

// ownerError reports an owner id that the id maps do not allow. It matches
// [ErrOwnerNotMapped].
type ownerError struct {
	kind   string // "uid" or "gid"
	id     int
	ranges string
}

func (e *ownerError) Error() string {
	if e.id < 0 || e.id > maxID {
		return fmt.Sprintf("owner %s %d is not a valid id", e.kind, e.id)
	}
	return fmt.Sprintf("owner %s %d is outside the mapped range %s", e.kind, e.id, e.ranges)
}

func (e *ownerError) Is(target error) bool { return target == ErrOwnerNotMapped }

// checkOwnerID returns an [*ownerError] unless id is valid and inside
// maps. Empty maps allow every valid id.
func checkOwnerID(kind string, id int, maps []userns.IDMap, ranges string) error {
	if id < 0 || id > maxID {
		return &ownerError{kind: kind, id: id, ranges: ranges}
	}
	if len(maps) == 0 {
		return nil
	}
	if _, ok := userns.ToHost(maps, int64(id)); ok {
		return nil
	}
	return &ownerError{kind: kind, id: id, ranges: ranges}
}

// cleanEntryName returns a tar entry name relative to the layer
// directory: leading slashes removed (absolute names are relative to the
// layer root, as in a container) and cleaned with [path.Clean], "." for
// the root itself. It returns [ErrUnsafeLayerPath] when the cleaned name
// leaves the directory ("..", "../x", "a/../../x") or contains a NUL
// byte, which no syscall accepts.
func cleanEntryName(name string) (string, error) {
	if strings.IndexByte(name, 0) >= 0 {
		return "", fmt.Errorf("%w: name contains a NUL byte", ErrUnsafeLayerPath)
	}
	name = strings.TrimLeft(name, "/")
	cleaned := path.Clean(name)
	if cleaned == ".." || strings.HasPrefix(cleaned, "../") {
		return "", fmt.Errorf("%w: the name leaves the layer directory", ErrUnsafeLayerPath)
	}
	return cleaned, nil
}

// splitEntryName splits a cleaned name other than "." into its parent
// directory ("" for the layer root) and its last element.
func splitEntryName(name string) (dir, base string) {
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return "", name
	}
	return name[:i], name[i+1:]
}

// whiteoutKind is the whiteout meaning of an entry's last element.
type whiteoutKind int

const (
	notWhiteout    whiteoutKind = iota
	whiteoutFile                // .wh.NAME: NAME is deleted
	whiteoutOpaque              // .wh..wh..opq: the parent directory is opaque
	whiteoutMeta                // .wh..wh.*: aufs metadata, skipped
)

// parseWhiteout classifies the last element of an entry name and, for
// [whiteoutFile], returns the name it deletes. A target of "", "." or
// ".." returns [ErrUnsafeLayerPath], because it would delete the
// directory itself or its parent.
func parseWhiteout(base string) (whiteoutKind, string, error) {
	target, ok := strings.CutPrefix(base, overlay.WhiteoutPrefix)
	switch {
	case !ok:
		return notWhiteout, "", nil
	case base == overlay.WhiteoutOpaqueDir:
		return whiteoutOpaque, "", nil
	case strings.HasPrefix(base, overlay.WhiteoutMetaPrefix):
		return whiteoutMeta, "", nil
	case target == "" || target == "." || target == "..":
		return notWhiteout, "", fmt.Errorf("%w: whiteout %s names no entry of its directory", ErrUnsafeLayerPath, displayName(base))
	}
	return whiteoutFile, target, nil
}

// paxXattrPrefix starts the PAX records that carry xattrs, in the format
// of GNU tar and star, which archive/tar also writes.
const paxXattrPrefix = "SCHILY.xattr."

// xattrAction is the applier's decision for one xattr of a layer entry.
type xattrAction int

const (
	xattrDrop xattrAction = iota
	xattrApply
	xattrReject
)

// xattrPolicy decides whether an xattr from a layer is applied. Overlay
// xattrs are rejected in both namespaces, whichever one the mount reads,
// because overlay trusts them as its own metadata. security.capability
// and user.* are applied. Other trusted.* xattrs are applied only when
// userXattr is false, since setting them needs CAP_SYS_ADMIN in the
// initial user namespace. Every other name, such as security.selinux
// or system.posix_acl_access, is dropped.
func xattrPolicy(name string, userXattr bool) xattrAction {
	switch {
	case overlay.IsOverlayXattr(name):
		return xattrReject
	case name == "security.capability", strings.HasPrefix(name, "user."):
		return xattrApply
	case strings.HasPrefix(name, "trusted.") && !userXattr:
		return xattrApply
	}
	return xattrDrop
}

// checkXattrs returns [ErrOverlayXattr] when a PAX record of records
// carries an overlay xattr.
func checkXattrs(records map[string]string, userXattr bool) error {
	for key := range records {
		name, ok := strings.CutPrefix(key, paxXattrPrefix)
		if ok && xattrPolicy(name, userXattr) == xattrReject {
			return fmt.Errorf("%w: %s is overlayfs metadata", ErrOverlayXattr, displayName(name))
		}
	}
	return nil
}

// displayName returns name as it is when every rune is printable, and
// quoted otherwise, so a hostile name cannot forge lines in messages.
func displayName(name string) string {
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return strconv.Quote(name)
		}
	}
	return name
}
