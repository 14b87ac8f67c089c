package image

import (
	"errors"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestParsePlatform(t *testing.T) {
	tests := []struct {
		in      string
		want    v1.Platform
		wantErr bool
	}{
		{"linux/amd64", v1.Platform{OS: "linux", Architecture: "amd64"}, false},
		{"linux/arm/v7", v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, false},
		{"linux", v1.Platform{}, true},
		{"linux/", v1.Platform{}, true},
		{"linux/arm/", v1.Platform{}, true},
		{"a/b/c/d", v1.Platform{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParsePlatform(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParsePlatform(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
			}
			if got.OS != tc.want.OS || got.Architecture != tc.want.Architecture || got.Variant != tc.want.Variant {
				t.Errorf("ParsePlatform(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func indexOf(platforms ...*v1.Platform) *v1.IndexManifest {
	im := &v1.IndexManifest{}
	for i, p := range platforms {
		im.Manifests = append(im.Manifests, v1.Descriptor{Size: int64(i), Platform: p})
	}
	return im
}

func TestSelectManifest(t *testing.T) {
	amd := &v1.Platform{OS: "linux", Architecture: "amd64"}
	armV7 := &v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}
	armV6 := &v1.Platform{OS: "linux", Architecture: "arm", Variant: "v6"}
	attestation := &v1.Platform{OS: "unknown", Architecture: "unknown"}
	tests := []struct {
		name  string
		index *v1.IndexManifest
		want  v1.Platform
		pick  int64
	}{
		{"host", indexOf(attestation, armV7, amd), v1.Platform{OS: "linux", Architecture: "amd64"}, 2},
		{"variant wanted", indexOf(armV6, armV7), v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, 1},
		{"no variant wanted matches any", indexOf(armV6, armV7), v1.Platform{OS: "linux", Architecture: "arm"}, 0},
		{"image without variant", indexOf(&v1.Platform{OS: "linux", Architecture: "arm64"}), v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := selectManifest(tc.index, tc.want)
			if err != nil {
				t.Fatal(err)
			}
			if got.Size != tc.pick {
				t.Errorf("picked manifest %d, want %d", got.Size, tc.pick)
			}
		})
	}
}

func TestSelectManifestNoMatchListsPlatforms(t *testing.T) {
	_, err := selectManifest(indexOf(&v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, &v1.Platform{OS: "linux", Architecture: "amd64"}),
		v1.Platform{OS: "linux", Architecture: "s390x"})
	if !errors.Is(err, ErrNoPlatform) {
		t.Fatalf("error = %v, want ErrNoPlatform", err)
	}
	if !strings.Contains(err.Error(), "linux/arm/v7, linux/amd64") {
		t.Errorf("error %q does not list the platforms on offer", err)
	}
}
