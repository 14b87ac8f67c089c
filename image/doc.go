// Package image keeps images: references, the image index, content
// addressed blobs and the hardened layer applier. It also moves images in
// and out of the store: pull and push with any OCI distribution registry,
// import and init, commit of a container, and save and load of
// docker-archive and OCI image layout files.
//
// # Layout
//
// Under the store root (see package overlay for layers/):
//
//	images.json          the index: every image with its tags, repository
//	                     digests, manifest digest and layer diff ids
//	images.lock          exclusive while the index is rewritten
//	blobs/sha256/HEX     configs, manifests and layer blobs, named by
//	                     the sha256 of their content
//	blobs/sha256/.tmp-*  a blob being written
//	layers/, layers.lock the extracted layers, keyed by diff id
//
// An image's id is the digest of its config blob. Its manifest blob is
// the one a registry served (Docker v2 or OCI, kept byte for byte, so its
// digest is the repository digest) or an OCI manifest gocker wrote for an
// imported, committed or loaded image. Every layer blob the manifest
// names is kept as it came (gzip, zstd or uncompressed), next to the
// extracted layer: push and save send the same bytes, so an image pushed
// and pulled elsewhere keeps its id, diff ids and digest. The price is
// disk space: a pulled image takes its compressed size once more.
//
// A blob is written to a .tmp- file while its digest is computed, and
// renamed to its digest once checked. A layer is extracted into a .tmp-
// directory and renamed once its diff id is checked. An image enters
// images.json only after every blob and layer it needs is in place, so a
// killed pull, load or commit never leaves an image that looks complete;
// the next pull reuses the layers it finished. Writers hold the shared
// layer lock from the first blob to the index update; gocker rmi takes it
// exclusively and then deletes the layers and blobs no image refers to,
// and the temporary files of killed writers.
//
// # Registries
//
// go-containerregistry speaks the distribution protocol. Registries are
// reached over HTTPS with the system's CA certificates plus those in
// certs.d directories (HOST:PORT/*.crt, see [RegistryOptions]); plain
// HTTP only for loopback registries and those listed as insecure, which a
// transport guard enforces because go-containerregistry itself also falls
// back to HTTP for private (RFC 1918) addresses. Credentials come from
// Docker's config file ([DockerConfig]); credential helpers are not run.
//
// Layers are downloaded and extracted in one pass and three at a time:
// the compressed stream goes to the blob file and, through a pipe, to the
// applier running as root in the user namespace, which decompresses it
// once and hashes the tar for the diff id. A layer whose diff id is
// stored already is not downloaded.
//
// Do not use this package for images whose layers are changed outside
// it: layers are trusted to match their diff ids once stored.
package image
