// Package overlay keeps extracted image layers on disk and knows the
// overlay filesystem's formats: whiteouts, opaque directories and the mount
// options that stack layers.
//
// # Layout
//
// Layers live under ROOT/layers, one directory per layer, named by the hex
// part of the layer's diff id (the sha256 of its uncompressed tar):
//
//	layers/HEX/diff        the extracted file tree, an overlay lower dir
//	layers/HEX/layer.json  [Layer] metadata, written before the rename
//	layers/.tmp-RANDOM/    a layer being extracted
//	layers/.rm-HEX/        a layer being removed
//	layers.lock            shared while extracting or creating containers,
//	                       exclusive while removing layers
//
// A layer's directory does not depend on the layers below it (overlay
// resolves whiteouts at mount time), so a layer shared by two images is
// stored once. A layer appears by renaming its finished temporary
// directory, so a layer directory is always complete; a killed extraction
// leaves only a .tmp- directory, which the next holder of the exclusive
// lock deletes.
//
// The container init mounts overlay after changing into ROOT/layers, so a
// lower dir costs len("HEX/diff:") = 70 bytes of the mount options, which
// mount(2) limits to one page: about 55 layers on 4 KiB pages.
//
// Rootless, layers are extracted as root in the user namespace, so file
// owners are subordinate ids on the host, opaque directories carry
// user.overlay.opaque, and the overlay is mounted with userxattr (Linux
// 5.11 or later). Layers extracted by root use trusted.overlay.* instead,
// so a store belongs to either root or one user.
//
// Do not use this package to read or change a layer while a container
// mounts it: overlay's behaviour is undefined when lower dirs change
// underneath it.
package overlay
