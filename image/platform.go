package image

import (
	"fmt"
	"runtime"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// HostPlatform returns the platform of this machine, without a variant.
func HostPlatform() v1.Platform {
	return v1.Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH}
}

// ParsePlatform parses "os/arch[/variant]", such as "linux/arm64" or
// "linux/arm/v7".
func ParsePlatform(s string) (v1.Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" || (len(parts) == 3 && parts[2] == "") {
		return v1.Platform{}, fmt.Errorf("invalid platform %q: use os/arch[/variant], such as linux/amd64 or linux/arm/v7", s)
	}
	p := v1.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}

// platformString formats p as os/arch[/variant].
func platformString(p v1.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// platformMatches reports whether an image for have runs on want: the
// same OS and architecture, and the same variant unless either has none.
func platformMatches(want, have v1.Platform) bool {
	if want.OS != have.OS || want.Architecture != have.Architecture {
		return false
	}
	return want.Variant == "" || have.Variant == "" || want.Variant == have.Variant
}

// selectManifest picks the manifest for want from an index. An exact
// variant match wins over an image without a variant. With no match, the
// error lists the platforms on offer.
func selectManifest(index *v1.IndexManifest, want v1.Platform) (v1.Descriptor, error) {
	var offered []string
	best := -1
	for i, m := range index.Manifests {
		if m.Platform == nil || m.Platform.OS == "unknown" {
			continue // attestations and other non-images
		}
		offered = append(offered, platformString(*m.Platform))
		if !platformMatches(want, *m.Platform) {
			continue
		}
		if best < 0 || (want.Variant != "" && m.Platform.Variant == want.Variant) {
			best = i
		}
	}
	if best < 0 {
		return v1.Descriptor{}, fmt.Errorf("%w: no image for %s; the image has %s: choose one with --platform",
			ErrNoPlatform, platformString(want), strings.Join(offered, ", "))
	}
	return index.Manifests[best], nil
}

// PlatformString formats p as os/arch[/variant].
func PlatformString(p v1.Platform) string { return platformString(p) }

// PlatformMatches reports whether an image for have runs on want: the
// same OS and architecture, and the same variant unless either has none.
func PlatformMatches(want, have v1.Platform) bool { return platformMatches(want, have) }

// Platform returns the platform that the config of img declares.
func (s *Store) Platform(img *Image) (v1.Platform, error) {
	cfg, err := s.Config(img)
	if err != nil {
		return v1.Platform{}, err
	}
	return v1.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant}, nil
}
