package overlay

import "strings"

// Names that OCI and Docker layer tars use for deletions. An empty entry
// named WhiteoutPrefix + NAME deletes NAME of the layers below. An entry
// named WhiteoutOpaqueDir makes its directory opaque, which hides
// everything the layers below put in it.
const (
	WhiteoutPrefix = ".wh."
	// WhiteoutMetaPrefix starts names that aufs reserved for its own
	// metadata, such as ".wh..wh.plnk". They are not whiteouts.
	WhiteoutMetaPrefix = ".wh..wh."
	WhiteoutOpaqueDir  = ".wh..wh..opq"
)

// Prefixes of the xattrs in which overlayfs keeps its metadata (opaque,
// redirect, metacopy, origin and others). Overlay reads the trusted
// namespace by default, and the user namespace when it is mounted with
// the userxattr option, which overlay in a user namespace requires
// (Linux 5.11 or later).
const (
	TrustedXattrPrefix = "trusted.overlay."
	UserXattrPrefix    = "user.overlay."
)

// OpaqueValue is the value of the opaque xattr on an opaque directory.
const OpaqueValue = "y"

// XattrPrefix returns [UserXattrPrefix] when userXattr is set, for an
// overlay mounted with userxattr, and [TrustedXattrPrefix] otherwise.
func XattrPrefix(userXattr bool) string {
	if userXattr {
		return UserXattrPrefix
	}
	return TrustedXattrPrefix
}

// OpaqueXattr returns the name of the xattr that marks a directory
// opaque: user.overlay.opaque when userXattr is set, else
// trusted.overlay.opaque.
func OpaqueXattr(userXattr bool) string {
	return XattrPrefix(userXattr) + "opaque"
}

// IsOverlayXattr reports whether name is in either overlay xattr
// namespace, whichever one a mount reads.
func IsOverlayXattr(name string) bool {
	return strings.HasPrefix(name, TrustedXattrPrefix) || strings.HasPrefix(name, UserXattrPrefix)
}
