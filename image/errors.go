package image

import "errors"

// Errors returned by [ApplyLayer]. Each is wrapped with the layer entry
// name and the detail, and is checked with [errors.Is].
var (
	// ErrUnsafeLayerPath means an entry name, hardlink target or whiteout
	// leaves the layer directory, or its parent path goes through a
	// symlink. Following it could create or change files outside the
	// layer, so the layer is rejected.
	ErrUnsafeLayerPath = errors.New("unsafe layer path")
	// ErrOwnerNotMapped means an entry's uid or gid is outside the ids
	// that [ApplyOptions] allows, usually because the user's subordinate
	// id range in /etc/subuid or /etc/subgid is smaller than the image
	// needs.
	ErrOwnerNotMapped = errors.New("owner not mapped")
	// ErrOverlayXattr means an entry carries a trusted.overlay.* or
	// user.overlay.* xattr. Overlayfs would read it as its own metadata
	// (a redirect or metacopy could expose other files), so the layer is
	// rejected.
	ErrOverlayXattr = errors.New("overlay xattr in layer")
	// ErrLinkTargetNotFound means a hardlink names a target that no
	// earlier entry of the same layer created.
	ErrLinkTargetNotFound = errors.New("hardlink target not found in layer")
	// ErrUnsupportedEntry means the tar entry type has no file system
	// equivalent here, or the layer root is given a type other than
	// directory.
	ErrUnsupportedEntry = errors.New("unsupported layer entry")
	// ErrLayerDirNotEmpty means the directory given to [ApplyLayer] has
	// entries. Layers are extracted into new, empty directories only.
	ErrLayerDirNotEmpty = errors.New("layer directory not empty")
	// ErrInvalidIDMap means an id map in [ApplyOptions] has a negative
	// id, a size below 1 or ids beyond 32 bits.
	ErrInvalidIDMap = errors.New("invalid id map")
)
