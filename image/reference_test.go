package image

import (
	"strings"
	"testing"
)

func TestParseReference(t *testing.T) {
	tests := []struct {
		input, canonical, familiar, tag string
	}{
		{"alpine", "docker.io/library/alpine:latest", "alpine", "latest"},
		{"alpine:3.20", "docker.io/library/alpine:3.20", "alpine", "3.20"},
		{"docker.io/library/alpine", "docker.io/library/alpine:latest", "alpine", "latest"},
		{"index.docker.io/library/alpine:1", "docker.io/library/alpine:1", "alpine", "1"},
		{"user/app:v1", "docker.io/user/app:v1", "user/app", "v1"},
		{"ghcr.io/org/app:1.2", "ghcr.io/org/app:1.2", "ghcr.io/org/app", "1.2"},
		{"localhost:5000/busybox", "localhost:5000/busybox:latest", "localhost:5000/busybox", "latest"},
		{"127.0.0.1:5000/a/b:c", "127.0.0.1:5000/a/b:c", "127.0.0.1:5000/a/b", "c"},
	}
	for _, tt := range tests {
		t.Run(tt.input, func(t *testing.T) {
			ref, err := ParseReference(tt.input)
			if err != nil {
				t.Fatal(err)
			}
			if got := ref.String(); got != tt.canonical {
				t.Errorf("String() = %q, want %q", got, tt.canonical)
			}
			if got := FamiliarRepository(ref.Repository()); got != tt.familiar {
				t.Errorf("familiar repository = %q, want %q", got, tt.familiar)
			}
			if got := ref.Tag(); got != tt.tag {
				t.Errorf("Tag() = %q, want %q", got, tt.tag)
			}
		})
	}
}

func TestParseReferenceDigest(t *testing.T) {
	const d = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
	ref, err := ParseReference("alpine@" + d)
	if err != nil {
		t.Fatal(err)
	}
	if ref.Digest() != d || ref.String() != "docker.io/library/alpine@"+d {
		t.Errorf("digest reference = %q (digest %q)", ref.String(), ref.Digest())
	}
}

func TestParseReferenceInvalid(t *testing.T) {
	for _, input := range []string{"", "Alpine", "alpine:", "a b", "alpine@sha256:12", "-x"} {
		t.Run(input, func(t *testing.T) {
			if _, err := ParseReference(input); err == nil {
				t.Errorf("ParseReference(%q) succeeded, want an error", input)
			}
		})
	}
}

func TestParseReferenceUppercase(t *testing.T) {
	_, err := ParseReference("Alpine:3")
	if err == nil || !strings.Contains(err.Error(), "lowercase") {
		t.Errorf("error = %v, want one saying names must be lowercase", err)
	}
}

func TestSplitTag(t *testing.T) {
	tests := []struct{ in, repo, tag string }{
		{"docker.io/library/alpine:latest", "docker.io/library/alpine", "latest"},
		{"localhost:5000/x:1", "localhost:5000/x", "1"},
		{"localhost:5000/x", "localhost:5000/x", ""},
	}
	for _, tt := range tests {
		repo, tag := SplitTag(tt.in)
		if repo != tt.repo || tag != tt.tag {
			t.Errorf("SplitTag(%q) = %q, %q; want %q, %q", tt.in, repo, tag, tt.repo, tt.tag)
		}
	}
}
