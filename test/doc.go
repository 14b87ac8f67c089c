// Package test holds gocker's end-to-end tests. They build the gocker
// binary and drive it as a real user would: as an unprivileged user with
// subordinate ids (the rootless path) and as root, on real images.
//
// The tests are behind the "integration" build tag and expect the host
// prepared by scripts/test-setup.sh: the packages uidmap and
// busybox-static, the users gockertest (with subordinate ids) and
// gockernosub (without), and a Debian bookworm root filesystem tarball
// made with debootstrap. A test whose prerequisite is missing is skipped
// with the reason, never passed. Run them as root:
//
//	sudo go test -tags integration ./test/
package test
